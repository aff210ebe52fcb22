import { Anchor, Group, Paper, Stack, Text, Timeline, Title } from "@mantine/core";
import { IconActivity, IconBellCheck } from "@tabler/icons-react";
import { Link } from "react-router";

import { SEVERITY_COLOR } from "../discovery/labels";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { Time } from "../ui/Time";
import { AlertStatusBadge, SeverityBadge } from "./badges";
import { BehaviourProfile } from "./BehaviourProfile";
import { useNhiProfiles } from "./useActivity";
import { useNhiAlerts } from "./useAlerts";

const TIMELINE_LENGTH = 20;

function AlertTimeline({ nhiId }: { nhiId: string }) {
  const alerts = useNhiAlerts(nhiId, TIMELINE_LENGTH);
  const all = `/alerts?status=all&nhi=${nhiId}`;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="alert-timeline-heading">
      <Group justify="space-between" mb="sm">
        <Title order={2} fz="md" id="alert-timeline-heading">
          Alert timeline
        </Title>
        <Anchor component={Link} to={all} size="sm">
          All alerts of this identity
        </Anchor>
      </Group>
      {alerts.isPending ? (
        <LoadingState label="Loading the alerts…" />
      ) : alerts.isError ? (
        <ErrorState error={alerts.error} onRetry={() => void alerts.refetch()} />
      ) : alerts.data.items.length === 0 ? (
        <EmptyState
          icon={<IconBellCheck size={22} stroke={1.6} />}
          title="No alerts for this identity"
          description="Its activity has not departed from its usual behaviour."
        />
      ) : (
        <Timeline bulletSize={14} lineWidth={2} active={alerts.data.items.length - 1}>
          {alerts.data.items.map((alert) => (
            <Timeline.Item
              key={alert.id}
              color={SEVERITY_COLOR[alert.severity] ?? "gray"}
              title={
                <Anchor component={Link} to={`${all}&open=${alert.id}`} size="sm" fw={500}>
                  {alert.title}
                </Anchor>
              }
            >
              <Group gap={6} mt={2} wrap="wrap">
                <SeverityBadge severity={alert.severity} />
                <AlertStatusBadge status={alert.status} />
                <Text size="xs" c="dimmed">
                  {alert.technique_id} {alert.technique} · <Time value={alert.last_seen_at} />
                </Text>
              </Group>
            </Timeline.Item>
          ))}
        </Timeline>
      )}
    </Paper>
  );
}

function Profiles({ nhiId }: { nhiId: string }) {
  const profiles = useNhiProfiles(nhiId);
  return (
    <Stack gap="sm" component="section" aria-labelledby="behaviour-heading">
      <Title order={2} fz="md" id="behaviour-heading">
        Behaviour profile
      </Title>
      {profiles.isPending ? (
        <LoadingState label="Loading the behaviour profile…" />
      ) : profiles.isError ? (
        <ErrorState error={profiles.error} onRetry={() => void profiles.refetch()} />
      ) : profiles.data.length === 0 ? (
        <Paper withBorder>
          <EmptyState
            icon={<IconActivity size={22} stroke={1.6} />}
            title="No activity seen for this identity"
            description="Send its audit logs (CloudTrail, Kubernetes, GitHub) to Nexora; a profile is learned from them."
          />
        </Paper>
      ) : (
        profiles.data.map((identity) => <BehaviourProfile key={identity.key} identity={identity} />)
      )}
    </Stack>
  );
}

/** An identity's activity: the alerts raised about it, newest first, and the behaviour they were judged against. */
export function NhiActivity({ nhiId }: { nhiId: string }) {
  return (
    <Stack gap="md">
      <AlertTimeline nhiId={nhiId} />
      <Profiles nhiId={nhiId} />
    </Stack>
  );
}
