import { Badge, Group, Loader, Paper, Select, Stack, Text, Title } from "@mantine/core";
import { IconHistory } from "@tabler/icons-react";

import { DataTable, type Column } from "../../ui/DataTable";
import { formatCount, formatDuration } from "../../ui/format";
import { redactText } from "../../ui/redact";
import { EmptyState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { useRuns, type Connector, type Run } from "../useConnectors";

export const RUN_STATUS_COLOR: Record<string, string> = {
  running: "blue",
  succeeded: "teal",
  partial: "yellow",
  failed: "red",
};

export function RunStatus({ status }: { status: string }) {
  return (
    <Badge
      color={RUN_STATUS_COLOR[status] ?? "gray"}
      variant="light"
      size="sm"
      leftSection={status === "running" ? <Loader size={10} color="blue" /> : undefined}
    >
      {status}
    </Badge>
  );
}

const COUNTS: [string, string][] = [
  ["seen", "seen"],
  ["discovered", "new"],
  ["changed", "changed"],
  ["removed", "removed"],
  ["findings_opened", "findings opened"],
];

/** Recent runs with what they found and, when something could not be read, each error. */
export function RunHistory({
  connectors,
  connectorId,
  onConnector,
}: {
  connectors: Connector[];
  connectorId: string | null;
  onConnector: (id: string | null) => void;
}) {
  const runs = useRuns(connectorId);
  const names = new Map(connectors.map((connector) => [connector.id, connector.name]));
  const columns: Column<Run>[] = [
    {
      key: "connector",
      header: "Connector",
      render: (run) => (
        <Stack gap={0}>
          <Text size="sm" fw={500}>
            {names.get(run.connector_id) ?? "deleted connector"}
          </Text>
          <Text size="xs" c="dimmed">
            {run.trigger}
            {run.is_baseline ? " · baseline" : ""}
          </Text>
        </Stack>
      ),
    },
    { key: "status", header: "Status", render: (run) => <RunStatus status={run.status} /> },
    { key: "started", header: "Started", render: (run) => <Time value={run.started_at} /> },
    { key: "duration", header: "Duration", hideOnPhone: true, render: (run) => formatDuration(run.duration_ms) },
    {
      key: "counts",
      header: "Found",
      render: (run) => (
        <Text size="xs" c="dimmed">
          {COUNTS.filter(([key]) => run.counts[key] !== undefined)
            .map(([key, label]) => `${formatCount(run.counts[key] ?? 0)} ${label}`)
            .join(" · ") || (run.status === "running" ? `stage: ${run.stage}` : "—")}
        </Text>
      ),
    },
    {
      key: "errors",
      header: "Errors",
      render: (run) =>
        run.errors.length === 0 ? (
          <Text size="sm" c="dimmed">
            none
          </Text>
        ) : (
          <Stack gap={2} component="ul" style={{ listStyle: "none", margin: 0, padding: 0 }}>
            {run.errors.slice(0, 5).map((error, index) => (
              <Text key={index} size="xs" c="red" component="li" style={{ overflowWrap: "anywhere" }}>
                <strong>{error.scope}:</strong> {redactText(error.message)}
              </Text>
            ))}
            {run.errors.length > 5 && (
              <Text size="xs" c="dimmed" component="li">
                and {run.errors.length - 5} more
              </Text>
            )}
          </Stack>
        ),
    },
  ];

  return (
    <Stack gap="sm" component="section" aria-labelledby="runs-heading">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Title order={2} fz="lg" id="runs-heading">
          Run history
        </Title>
        <Select
          aria-label="Show runs of"
          size="xs"
          w={240}
          data={[
            { value: "", label: "All connectors" },
            ...connectors.map((connector) => ({ value: connector.id, label: connector.name })),
          ]}
          value={connectorId ?? ""}
          onChange={(value) => onConnector(value || null)}
          allowDeselect={false}
        />
      </Group>
      <DataTable
        caption="Runs"
        columns={columns}
        rows={runs.data?.items}
        rowKey={(run) => run.id}
        loading={runs.isPending}
        error={runs.error}
        onRetry={() => void runs.refetch()}
        minWidth={860}
        empty={
          <Paper>
            <EmptyState
              icon={<IconHistory size={22} stroke={1.6} />}
              title="No runs yet"
              description="Runs appear here when a connector runs on its schedule or when you press Run now."
            />
          </Paper>
        }
      />
    </Stack>
  );
}
