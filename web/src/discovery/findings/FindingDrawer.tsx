import { Alert, Anchor, Drawer, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { IconTool } from "@tabler/icons-react";
import { Link } from "react-router";

import { DetailList, JsonDetails } from "../../ui/Details";
import { Time } from "../../ui/Time";
import { CategoryBadge, SeverityBadge, StatusBadge } from "../badges";
import { CATEGORY_INFO, kindLabel } from "../labels";
import type { Finding } from "../useFindings";

/** A finding in full: what is wrong (evidence), why it matters (its OWASP category) and how to fix it. */
export function FindingDrawer({ finding, onClose }: { finding: Finding | null; onClose: () => void }) {
  const info = finding ? CATEGORY_INFO[finding.category] : undefined;
  return (
    <Drawer
      opened={finding !== null}
      onClose={onClose}
      position="right"
      size="lg"
      title={<Text fw={600}>Finding</Text>}
    >
      {finding && (
        <Stack gap="md">
          <Stack gap={6}>
            <Group gap={6}>
              <SeverityBadge severity={finding.severity} />
              <CategoryBadge category={finding.category} />
              <StatusBadge status={finding.status} />
            </Group>
            <Title order={2} fz="lg">
              {finding.title}
            </Title>
          </Stack>
          {info && (
            <Text size="sm" c="dimmed">
              <strong>
                {finding.category} {info.name}:
              </strong>{" "}
              {info.summary}
            </Text>
          )}
          <Alert color="teal" variant="light" icon={<IconTool size={18} />} title="Recommended fix">
            {finding.recommendation}
          </Alert>
          <Paper withBorder p="sm">
            <Title order={3} fz="sm" mb="xs">
              Evidence
            </Title>
            <JsonDetails value={finding.evidence} empty="No evidence recorded." />
          </Paper>
          <DetailList
            items={[
              {
                label: "Identity",
                value: finding.nhi_id ? (
                  <Anchor component={Link} to={`/nhis/${finding.nhi_id}`} size="sm">
                    {finding.nhi_name}
                  </Anchor>
                ) : (
                  finding.nhi_name
                ),
              },
              { label: "Identity kind", value: kindLabel(finding.nhi_kind) },
              { label: "Check", value: <code>{finding.check_id}</code> },
              { label: "First seen", value: <Time value={finding.first_seen_at} /> },
              { label: "Last seen", value: <Time value={finding.last_seen_at} /> },
              { label: "Resolved", value: <Time value={finding.resolved_at} empty="not yet" /> },
            ]}
          />
        </Stack>
      )}
    </Drawer>
  );
}
