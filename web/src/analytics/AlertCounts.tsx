import { SimpleGrid } from "@mantine/core";
import { IconAlertOctagon, IconBell } from "@tabler/icons-react";

import { SEVERITY_COLOR } from "../discovery/labels";
import { formatCount } from "../ui/format";
import { StatCard } from "../ui/StatCard";
import { ErrorState } from "../ui/states";
import { ALERT_SEVERITIES, readable } from "./labels";
import { useAlertSummary } from "./useAlerts";

/** The overview's alert tiles: active (open or acknowledged) alerts, in all and by severity, each a link. */
export function AlertCounts() {
  const summary = useAlertSummary();
  if (summary.isError) {
    return (
      <ErrorState
        error={summary.error}
        title="Could not load the alert counts"
        onRetry={() => void summary.refetch()}
      />
    );
  }
  const data = summary.data;
  const open = data?.by_status.open;
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} spacing="md" mb="md" aria-label="Active alerts by severity">
      <StatCard
        label="Active alerts"
        value={data?.active}
        icon={<IconBell size={20} />}
        color="red"
        to="/alerts"
        hint={open === undefined ? undefined : `${formatCount(open)} not acknowledged yet`}
      />
      {ALERT_SEVERITIES.map((severity) => (
        <StatCard
          key={severity}
          label={`${readable(severity)} alerts`}
          value={data ? (data.active_by_severity[severity] ?? 0) : undefined}
          icon={<IconAlertOctagon size={20} />}
          color={SEVERITY_COLOR[severity] ?? "gray"}
          to={`/alerts?severity=${severity}`}
        />
      ))}
    </SimpleGrid>
  );
}
