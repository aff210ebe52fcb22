import { Anchor, Badge, Code, Stack, Text } from "@mantine/core";

import { attackUrl, STATUS_COLOR, statusLabel } from "./labels";
import type { Alert } from "./useAlerts";

export { SeverityBadge } from "../discovery/badges";

export function AlertStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLOR[status] ?? "gray"} variant="outline" size="sm">
      {statusLabel(status)}
    </Badge>
  );
}

/** An alert's MITRE ATT&CK technique: its id (a link to ATT&CK) over its name. */
export function TechniqueCell({ alert }: { alert: Pick<Alert, "technique_id" | "technique"> }) {
  const url = attackUrl(alert.technique_id);
  return (
    <Stack gap={0}>
      {url ? (
        <Anchor href={url} target="_blank" rel="noreferrer noopener" size="sm" ff="monospace">
          {alert.technique_id}
        </Anchor>
      ) : (
        <Code fz="xs">{alert.technique_id}</Code>
      )}
      <Text size="xs" c="dimmed">
        {alert.technique}
      </Text>
    </Stack>
  );
}
