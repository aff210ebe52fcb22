import { useEffect, useMemo, useState } from "react";
import { Anchor, Button, Checkbox, Group, Paper, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconBellCheck, IconChecks } from "@tabler/icons-react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { errorMessage } from "../api/problem";
import { hasRole } from "../auth/roles";
import { useMe } from "../auth/useMe";
import { DataTable, type Column } from "../ui/DataTable";
import { formatCount } from "../ui/format";
import { PageHeader } from "../ui/PageHeader";
import { redactText } from "../ui/redact";
import { EmptyState } from "../ui/states";
import { Time } from "../ui/Time";
import { AlertDrawer } from "./AlertDrawer";
import { AlertFilters } from "./AlertFilters";
import { alertsSearchParams, isFiltered, parseAlertsView, type AlertsView } from "./alertsQuery";
import { AlertStatusBadge, SeverityBadge, TechniqueCell } from "./badges";
import { useAlerts, useChangeAlertStatus, type Alert } from "./useAlerts";

/** The selected alerts and what an analyst can do with them at once. */
function BulkBar({ selected, onDone }: { selected: string[]; onDone: () => void }) {
  const change = useChangeAlertStatus();
  const acknowledge = () =>
    change.mutate(
      { ids: selected, status: "acknowledged" },
      {
        onSuccess: (changed) => {
          onDone();
          notifications.show({
            color: "teal",
            title: "Alerts acknowledged",
            message: `${formatCount(changed.length)} alert(s) acknowledged.`,
          });
        },
        onError: (error) =>
          notifications.show({ color: "red", title: "Could not acknowledge the alerts", message: errorMessage(error) }),
      },
    );
  return (
    <Paper withBorder p="xs" mb="xs" component="section" aria-label="Selected alerts">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm" aria-live="polite">
          {selected.length === 0
            ? "Select alerts to triage them together."
            : `${formatCount(selected.length)} selected`}
        </Text>
        <Group gap="xs">
          {selected.length > 0 && (
            <Button size="xs" variant="subtle" color="gray" onClick={onDone}>
              Clear selection
            </Button>
          )}
          <Button
            size="xs"
            leftSection={<IconChecks size={16} />}
            disabled={selected.length === 0}
            loading={change.isPending}
            onClick={acknowledge}
          >
            Acknowledge selected
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}

/** Behaviour alerts: filter, triage one by one or many at once, and read the evidence behind each. */
export default function AlertsPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const view = useMemo(() => parseAlertsView(params), [params]);
  const { open, ...filters } = view;
  const alerts = useAlerts(filters);
  const me = useMe();
  const canTriage = hasRole(me.data?.roles, "analyst");
  const rows = alerts.data?.pages.flatMap((page) => page.items);
  const listed = rows?.find((alert) => alert.id === open) ?? null;
  const [selected, setSelected] = useState<string[]>([]);
  const filterKey = alertsSearchParams({ ...view, open: null }).toString();
  // A selection belongs to the list it was made in.
  useEffect(() => setSelected([]), [filterKey]);

  const change = (changes: Partial<AlertsView>, replace = false) =>
    navigate({ search: alertsSearchParams({ ...view, open: null, ...changes }).toString() }, { replace });
  const toggle = (id: string) =>
    setSelected((current) => (current.includes(id) ? current.filter((item) => item !== id) : [...current, id]));
  const shownIds = rows?.map((alert) => alert.id) ?? [];
  const allSelected = shownIds.length > 0 && shownIds.every((id) => selected.includes(id));
  const someSelected = !allSelected && shownIds.some((id) => selected.includes(id));

  const title: Column<Alert> = {
    key: "alert",
    header: canTriage ? (
      <Group gap="sm" wrap="nowrap">
        <Checkbox
          size="xs"
          aria-label="Select every alert shown"
          checked={allSelected}
          indeterminate={someSelected}
          onChange={() => setSelected(allSelected ? [] : shownIds)}
        />
        Alert
      </Group>
    ) : (
      "Alert"
    ),
    label: "Alert",
    render: (alert) => (
      <Group gap="sm" wrap="nowrap" align="flex-start">
        {canTriage && (
          <Checkbox
            size="xs"
            mt={3}
            aria-label={`Select ${alert.title}`}
            checked={selected.includes(alert.id)}
            onChange={() => toggle(alert.id)}
          />
        )}
        <Stack gap={0}>
          <Anchor
            component="button"
            type="button"
            size="sm"
            ta="left"
            onClick={() => change({ open: alert.id })}
            style={{ overflowWrap: "anywhere" }}
          >
            {alert.title}
          </Anchor>
          <Text size="xs" c="dimmed" ff="monospace">
            {alert.detector}
          </Text>
        </Stack>
      </Group>
    ),
  };
  const columns: Column<Alert>[] = [
    title,
    { key: "severity", header: "Severity", width: 96, render: (alert) => <SeverityBadge severity={alert.severity} /> },
    {
      key: "identity",
      header: "Identity",
      render: (alert) =>
        alert.nhi_id ? (
          <Anchor component={Link} to={`/nhis/${alert.nhi_id}`} size="sm" style={{ overflowWrap: "anywhere" }}>
            {alert.identity_name}
          </Anchor>
        ) : (
          <Stack gap={0}>
            <Text size="sm" style={{ overflowWrap: "anywhere" }}>
              {redactText(alert.identity_name)}
            </Text>
            <Text size="xs" c="dimmed">
              not in the inventory
            </Text>
          </Stack>
        ),
    },
    { key: "technique", header: "ATT&CK", render: (alert) => <TechniqueCell alert={alert} /> },
    { key: "status", header: "Status", width: 136, render: (alert) => <AlertStatusBadge status={alert.status} /> },
    {
      key: "last_seen",
      header: "Last seen",
      render: (alert) => (
        <Text size="sm" style={{ whiteSpace: "nowrap" }}>
          <Time value={alert.last_seen_at} />
        </Text>
      ),
    },
    {
      key: "count",
      header: "Count",
      align: "right",
      hideOnPhone: true,
      render: (alert) => formatCount(alert.event_count),
    },
  ];
  const filtered = isFiltered(view);

  return (
    <>
      <PageHeader
        title="Alerts"
        description="Behaviour that departs from what each identity usually does, mapped to MITRE ATT&CK, with the records behind it."
      />
      <AlertFilters view={view} onChange={(changes) => change(changes)} />
      {canTriage && rows && rows.length > 0 && <BulkBar selected={selected} onDone={() => setSelected([])} />}
      <DataTable
        caption="Alerts"
        columns={columns}
        rows={rows}
        rowKey={(alert) => alert.id}
        loading={alerts.isPending}
        error={alerts.error}
        onRetry={() => void alerts.refetch()}
        hasMore={alerts.hasNextPage}
        loadingMore={alerts.isFetchingNextPage}
        onLoadMore={() => void alerts.fetchNextPage()}
        minWidth={960}
        empty={
          <EmptyState
            icon={<IconBellCheck size={22} stroke={1.6} />}
            title={filtered ? "No alert matches these filters" : "No open alerts"}
            description={
              filtered
                ? "Loosen or reset the filters to see more."
                : "Nothing unusual needs attention. Alerts appear here as activity is scored against each identity's baseline."
            }
          />
        }
      />
      <AlertDrawer
        alertId={open}
        listed={listed}
        canTriage={canTriage}
        onClose={() => navigate({ search: alertsSearchParams({ ...view, open: null }).toString() }, { replace: true })}
      />
    </>
  );
}
