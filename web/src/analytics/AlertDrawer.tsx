import { useEffect, useState } from "react";
import { Anchor, Button, Code, Drawer, Group, Paper, Stack, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { Link } from "react-router";

import { errorMessage } from "../api/problem";
import { DetailList, JsonDetails } from "../ui/Details";
import { redactText, redactValue } from "../ui/redact";
import { ErrorState, LoadingState } from "../ui/states";
import { Time } from "../ui/Time";
import classes from "./AlertDrawer.module.css";
import { AlertStatusBadge, SeverityBadge } from "./badges";
import { attackUrl, statusLabel, type AlertStatus } from "./labels";
import { useAlert, useChangeAlertStatus, type ActivityEvent, type Alert } from "./useAlerts";

const SHOWN_EVENTS = 20;

/** The status changes offered for an alert in `status`, with their button labels. */
export function statusActions(status: AlertStatus): { to: AlertStatus; label: string; color?: string }[] {
  const actions: { to: AlertStatus; label: string; color?: string }[] = [];
  if (status === "open") actions.push({ to: "acknowledged", label: "Acknowledge" });
  if (status !== "resolved") actions.push({ to: "resolved", label: "Resolve", color: "teal" });
  if (status !== "false_positive") actions.push({ to: "false_positive", label: "False positive", color: "gray" });
  if (status !== "open") actions.push({ to: "open", label: "Reopen", color: "red" });
  return actions;
}

function AttackId({ id }: { id: string }) {
  const url = attackUrl(id);
  return url ? (
    <Anchor href={url} target="_blank" rel="noreferrer noopener" size="sm" ff="monospace">
      {id}
    </Anchor>
  ) : (
    <Code fz="xs">{id}</Code>
  );
}

function StatusActions({ alert }: { alert: Alert }) {
  const change = useChangeAlertStatus();
  const [note, setNote] = useState("");
  useEffect(() => setNote(""), [alert.id]);
  const apply = (status: AlertStatus) =>
    change.mutate(
      { id: alert.id, status, note },
      {
        onSuccess: () => {
          setNote("");
          notifications.show({
            color: "teal",
            title: "Alert updated",
            message: `Now ${statusLabel(status).toLowerCase()}.`,
          });
        },
        onError: (error) =>
          notifications.show({ color: "red", title: "Could not change the alert", message: errorMessage(error) }),
      },
    );
  return (
    <Paper withBorder p="sm" component="section" aria-label="Triage">
      <Stack gap="xs">
        <Textarea
          label="Note (optional)"
          placeholder="Why, for whoever reads this alert next"
          autosize
          minRows={2}
          maxLength={2000}
          value={note}
          onChange={(event) => setNote(event.currentTarget.value)}
        />
        <Group gap="xs">
          {statusActions(alert.status).map((action) => (
            <Button
              key={action.to}
              size="xs"
              variant={action.to === "acknowledged" ? "filled" : "default"}
              color={action.color}
              loading={change.isPending && change.variables?.status === action.to}
              disabled={change.isPending}
              onClick={() => apply(action.to)}
            >
              {action.label}
            </Button>
          ))}
        </Group>
      </Stack>
    </Paper>
  );
}

function EvidenceEvent({ event }: { event: ActivityEvent }) {
  return (
    <Paper withBorder p="sm" component="article" aria-label={`Event ${event.source_event_id}`}>
      <Group justify="space-between" gap="xs" mb={4} wrap="wrap">
        <Code fz="sm">{event.action}</Code>
        <Text size="xs" c={event.outcome === "success" ? "dimmed" : "red"}>
          {event.outcome}
          {event.error_code ? ` (${event.error_code})` : ""}
        </Text>
      </Group>
      <Text size="xs" c="dimmed" mb="xs" style={{ overflowWrap: "anywhere" }}>
        <Time value={event.time} /> · {event.source} · {event.service}
        {event.source_ip ? ` · ${event.source_ip}` : ""}
        {event.country ? ` (${event.country}${event.asn ? `, AS${event.asn}` : ""})` : ""}
        {event.region ? ` · ${event.region}` : ""}
      </Text>
      {event.resource && (
        <Text size="xs" mb="xs" style={{ overflowWrap: "anywhere" }}>
          Resource: <Code fz="xs">{redactText(event.resource)}</Code>
        </Text>
      )}
      <pre
        className={classes.raw}
        aria-label={`Raw record ${event.source_event_id}`}
        data-testid="raw-record"
        tabIndex={0}
      >
        {JSON.stringify(redactValue(event.raw), null, 2)}
      </pre>
    </Paper>
  );
}

function Evidence({ alertId, eventCount }: { alertId: string; eventCount: number }) {
  const detail = useAlert(alertId);
  const [all, setAll] = useState(false);
  if (detail.isPending) return <LoadingState label="Loading the evidence…" />;
  if (detail.isError) return <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />;
  const events = detail.data.events;
  if (events.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        The records of this alert are no longer stored (they are kept for the activity retention period).
      </Text>
    );
  }
  const shown = all ? events : events.slice(0, SHOWN_EVENTS);
  return (
    <Stack gap="xs">
      <Text size="xs" c="dimmed">
        {events.length} stored record(s) of {eventCount} detection(s), oldest first. Secret-looking values are redacted.
      </Text>
      {shown.map((event) => (
        <EvidenceEvent key={`${event.source}:${event.source_event_id}`} event={event} />
      ))}
      {events.length > shown.length && (
        <Group>
          <Button size="xs" variant="default" onClick={() => setAll(true)}>
            Show all {events.length} records
          </Button>
        </Group>
      )}
    </Stack>
  );
}

/**
 * An alert in full: what was seen against which baseline, its ATT&CK mapping, the triage buttons (analysts)
 * and the evidence records as received. `listed` is the row already on screen; the detail replaces it.
 */
export function AlertDrawer({
  alertId,
  listed,
  canTriage,
  onClose,
}: {
  alertId: string | null;
  listed: Alert | null;
  canTriage: boolean;
  onClose: () => void;
}) {
  const detail = useAlert(alertId);
  const alert = detail.data ?? listed;
  return (
    <Drawer opened={alertId !== null} onClose={onClose} position="right" size="xl" title={<Text fw={600}>Alert</Text>}>
      {alertId && !alert && detail.isPending && <LoadingState label="Loading the alert…" />}
      {alertId && !alert && detail.isError && <ErrorState error={detail.error} />}
      {alert && (
        <Stack gap="md">
          <Stack gap={6}>
            <Group gap={6}>
              <SeverityBadge severity={alert.severity} />
              <AlertStatusBadge status={alert.status} />
            </Group>
            <Title order={2} fz="lg">
              {alert.title}
            </Title>
          </Stack>
          <Paper withBorder p="sm" component="section" aria-labelledby="explanation-heading">
            <Title order={3} fz="sm" mb="xs" id="explanation-heading">
              Explanation
            </Title>
            <JsonDetails value={alert.explanation} empty="No explanation recorded." />
          </Paper>
          <Paper withBorder p="sm" component="section" aria-labelledby="attack-heading">
            <Title order={3} fz="sm" mb="xs" id="attack-heading">
              MITRE ATT&CK
            </Title>
            <DetailList
              items={[
                {
                  label: "Tactic",
                  value: (
                    <Group gap={6} wrap="wrap">
                      <AttackId id={alert.tactic_id} />
                      <Text span size="sm">
                        {alert.tactic}
                      </Text>
                    </Group>
                  ),
                },
                {
                  label: "Technique",
                  value: (
                    <Group gap={6} wrap="wrap">
                      <AttackId id={alert.technique_id} />
                      <Text span size="sm">
                        {alert.technique}
                      </Text>
                    </Group>
                  ),
                },
                { label: "Detector", value: <Code fz="xs">{alert.detector}</Code> },
              ]}
            />
          </Paper>
          {canTriage && <StatusActions alert={alert} />}
          <DetailList
            items={[
              {
                label: "Identity",
                value: alert.nhi_id ? (
                  <Anchor component={Link} to={`/nhis/${alert.nhi_id}?tab=activity`} size="sm">
                    {alert.identity_name}
                  </Anchor>
                ) : (
                  `${alert.identity_name} (not in the inventory)`
                ),
              },
              { label: "Identity key", value: <Code fz="xs">{redactText(alert.identity)}</Code> },
              { label: "Detections", value: alert.event_count },
              { label: "First seen", value: <Time value={alert.first_seen_at} /> },
              { label: "Last seen", value: <Time value={alert.last_seen_at} /> },
              { label: "Status changed", value: <Time value={alert.status_changed_at} empty="never" /> },
              {
                label: "Changed by",
                value: alert.status_changed_by ? <Code fz="xs">{alert.status_changed_by}</Code> : "—",
              },
              { label: "Note", value: alert.note ?? "—" },
            ]}
          />
          <Paper withBorder p="sm" component="section" aria-labelledby="evidence-heading">
            <Title order={3} fz="sm" mb="xs" id="evidence-heading">
              Evidence
            </Title>
            <Evidence alertId={alert.id} eventCount={alert.event_count} />
          </Paper>
        </Stack>
      )}
    </Drawer>
  );
}
