import { Anchor, Button, Code, Grid, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { IconPencil } from "@tabler/icons-react";
import { Link } from "react-router";

import { DetailList } from "../../ui/Details";
import { redactText } from "../../ui/redact";
import { ErrorState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { CategoryBadge, EnvironmentBadge, SeverityBadge, StatusBadge } from "../badges";
import { edgeLabel } from "../graphElements";
import { kindLabel, providerLabel } from "../labels";
import { PrivilegeBadge } from "../PrivilegeBadge";
import type { NhiDetail, NhiGraph } from "../useNhis";
import { RiskCard } from "./RiskCard";

function OwnerValue({ detail }: { detail: NhiDetail }) {
  if (!detail.owner) {
    return (
      <Text span size="sm" c="orange" fs="italic">
        unowned
      </Text>
    );
  }
  return (
    <Text span size="sm">
      {detail.owner}{" "}
      {detail.owner_source && (
        <Text span size="xs" c="dimmed">
          ({detail.owner_source === "override" ? "set by a person" : `from ${detail.owner_source}`})
        </Text>
      )}
    </Text>
  );
}

function Attributes({ detail, onEdit }: { detail: NhiDetail; onEdit?: () => void }) {
  const preview = typeof detail.attributes.preview === "string" ? detail.attributes.preview : null;
  return (
    <Paper withBorder p="md" h="100%" component="section" aria-labelledby="attributes-heading">
      <Group justify="space-between" mb="xs">
        <Title order={2} fz="md" id="attributes-heading">
          Attributes
        </Title>
        {onEdit && (
          <Button size="compact-sm" variant="default" leftSection={<IconPencil size={14} />} onClick={onEdit}>
            Edit owner and environment
          </Button>
        )}
      </Group>
      <DetailList
        items={[
          { label: "Kind", value: kindLabel(detail.kind) },
          {
            label: "Provider",
            value: `${providerLabel(detail.provider)}${detail.account ? ` · ${detail.account}` : ""}`,
          },
          { label: "External ID", value: <Code fz="xs">{detail.external_id}</Code> },
          ...(preview ? [{ label: "Secret (redacted)", value: <Code fz="xs">{redactText(preview)}</Code> }] : []),
          { label: "Owner", value: <OwnerValue detail={detail} /> },
          {
            label: "Environment",
            value: <EnvironmentBadge environment={detail.environment} overridden={detail.environment_overridden} />,
          },
          { label: "Privilege", value: <PrivilegeBadge level={detail.privilege_level} /> },
          { label: "Status", value: detail.status },
          { label: "Created", value: <Time value={detail.created_at} empty="unknown" /> },
          { label: "Last used", value: <Time value={detail.last_used_at} empty="never" /> },
          { label: "Last rotated", value: <Time value={detail.last_rotated_at} empty="never" /> },
          { label: "Expires", value: <Time value={detail.expires_at} empty="never" /> },
          { label: "First seen", value: <Time value={detail.first_seen_at} /> },
          { label: "Last seen", value: <Time value={detail.last_seen_at} /> },
        ]}
      />
    </Paper>
  );
}

function Findings({ detail }: { detail: NhiDetail }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="findings-heading">
      <Group justify="space-between" mb="xs">
        <Title order={2} fz="md" id="findings-heading">
          Findings ({detail.findings.filter((finding) => finding.status === "open").length} open)
        </Title>
        {detail.findings.length > 0 && (
          <Anchor component={Link} to={`/findings?nhi=${detail.id}&status=all`} size="sm">
            Open in findings
          </Anchor>
        )}
      </Group>
      {detail.findings.length === 0 ? (
        <Text size="sm" c="dimmed">
          No check has found a problem with this identity.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560} type="native">
          <Table verticalSpacing="xs" highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Severity</Table.Th>
                <Table.Th scope="col">Finding</Table.Th>
                <Table.Th scope="col">Category</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {detail.findings.map((finding) => (
                <Table.Tr key={finding.id ?? finding.check_id}>
                  <Table.Td>
                    <SeverityBadge severity={finding.severity} />
                  </Table.Td>
                  <Table.Td>
                    <Anchor
                      component={Link}
                      to={`/findings?nhi=${detail.id}&status=all${finding.id ? `&open=${finding.id}` : ""}`}
                      size="sm"
                    >
                      {finding.title}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <CategoryBadge category={finding.category} />
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge status={finding.status} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}

/** Where this identity's secret is exposed, shown only as the server's redacted preview. */
function Exposures({ graph, error }: { graph: NhiGraph | undefined; error: unknown }) {
  return (
    <Paper withBorder p="md" h="100%" component="section" aria-labelledby="exposures-heading">
      <Title order={2} fz="md" id="exposures-heading" mb="xs">
        Secret exposures
      </Title>
      {error ? (
        <ErrorState error={error} />
      ) : !graph ? (
        <Text size="sm" c="dimmed">
          Loading…
        </Text>
      ) : graph.exposures.length === 0 ? (
        <Text size="sm" c="dimmed">
          No exposure known: this secret was not found in code or in another store.
        </Text>
      ) : (
        <Stack gap="xs" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
          {graph.exposures.map((exposure) => (
            <Stack key={`${exposure.relationship}:${exposure.id}`} gap={2} component="li">
              <Group gap={6} wrap="wrap">
                <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                  {edgeLabel(exposure.relationship)}
                </Text>
                <Anchor component={Link} to={`/nhis/${exposure.id}`} size="sm" style={{ overflowWrap: "anywhere" }}>
                  {exposure.name}
                </Anchor>
              </Group>
              <Group gap={6}>
                <Text size="xs" c="dimmed">
                  {kindLabel(exposure.kind)}
                  {exposure.location ? ` · ${exposure.location}` : ""}
                </Text>
                {exposure.preview && (
                  <Code fz="xs" aria-label="Redacted preview">
                    {redactText(exposure.preview)}
                  </Code>
                )}
              </Group>
            </Stack>
          ))}
        </Stack>
      )}
      {graph && graph.owners.length > 1 && (
        <>
          <Title order={3} fz="sm" mt="md" mb={4}>
            Ownership chain
          </Title>
          <Stack gap={2} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {graph.owners
              .filter((owner) => owner.id !== graph.root)
              .map((owner) => (
                <Text key={owner.id} size="sm" component="li">
                  <Anchor component={Link} to={`/nhis/${owner.id}`} size="sm">
                    {owner.name}
                  </Anchor>{" "}
                  <Text span size="xs" c="dimmed">
                    {kindLabel(owner.kind)} · owner {owner.owner ?? "unknown"}
                  </Text>
                </Text>
              ))}
          </Stack>
        </>
      )}
    </Paper>
  );
}

/** Attributes, risk, findings and exposures of one identity. */
export function NhiSummary({
  detail,
  graph,
  graphError,
  onEdit,
}: {
  detail: NhiDetail;
  graph: NhiGraph | undefined;
  graphError: unknown;
  onEdit?: () => void;
}) {
  return (
    <Stack gap="md">
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Attributes detail={detail} onEdit={onEdit} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md" h="100%">
            <RiskCard detail={detail} />
            <Exposures graph={graph} error={graphError} />
          </Stack>
        </Grid.Col>
      </Grid>
      <Findings detail={detail} />
    </Stack>
  );
}
