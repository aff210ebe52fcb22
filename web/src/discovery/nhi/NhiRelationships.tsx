import { lazy, Suspense, useMemo, useState } from "react";
import {
  Alert,
  Anchor,
  Badge,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { IconInfoCircle } from "@tabler/icons-react";
import { Link, useNavigate } from "react-router";

import { ErrorState, LoadingState } from "../../ui/states";
import { RiskScore } from "../badges";
import { graphElements, viaLabel, type NodeShape } from "../graphElements";
import { kindLabel, providerLabel } from "../labels";
import { useNhiGraph, type NhiDetail } from "../useNhis";

const RelationshipGraph = lazy(() => import("./RelationshipGraph"));

export const DEPTHS = ["1", "2", "3", "4", "5", "6"];

const LEGEND: { shape: NodeShape; label: string }[] = [
  { shape: "ellipse", label: "Identity" },
  { shape: "diamond", label: "Credential" },
  { shape: "hexagon", label: "Leaked secret" },
  { shape: "round-rectangle", label: "Resource" },
];

function ShapeIcon({ shape }: { shape: NodeShape }) {
  const path = {
    ellipse: <circle cx="7" cy="7" r="5.5" />,
    diamond: <path d="M7 1 L13 7 L7 13 L1 7 Z" />,
    hexagon: <path d="M4 1.5 L10 1.5 L13 7 L10 12.5 L4 12.5 L1 7 Z" />,
    "round-rectangle": <rect x="1.5" y="2.5" width="11" height="9" rx="2.5" />,
  }[shape];
  return (
    <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" fill="var(--mantine-color-dimmed)">
      {path}
    </svg>
  );
}

/** The blast radius of an identity to a chosen depth: what it can reach, as a graph and as a table. */
export function NhiRelationships({
  detail,
  depth,
  onDepth,
}: {
  detail: NhiDetail;
  depth: number;
  onDepth: (depth: number) => void;
}) {
  const graph = useNhiGraph(detail.id, depth);
  const navigate = useNavigate();
  const [selected, setSelected] = useState<string | null>(null);
  const elements = useMemo(() => (graph.data ? graphElements(graph.data) : null), [graph.data]);
  const reachable = graph.data ? graph.data.nodes.length - 1 : 0;

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="graph-heading">
      <Group justify="space-between" align="flex-end" mb="sm" wrap="wrap" gap="sm">
        <Stack gap={2}>
          <Title order={2} fz="md" id="graph-heading">
            Blast radius
          </Title>
          <Text size="sm" c="dimmed">
            What this identity can reach: roles it can assume, what it grants access to, and who holds it.
          </Text>
        </Stack>
        <Stack gap={4}>
          <Text size="xs" fw={600} id="depth-label">
            Depth (hops)
          </Text>
          <SegmentedControl
            aria-labelledby="depth-label"
            size="xs"
            data={DEPTHS}
            value={String(depth)}
            onChange={(value) => onDepth(Number(value))}
          />
        </Stack>
      </Group>
      {graph.isError && !graph.data ? (
        <ErrorState error={graph.error} onRetry={() => void graph.refetch()} />
      ) : !elements || !graph.data ? (
        <LoadingState label="Loading the graph…" />
      ) : (
        <Stack gap="sm" style={{ opacity: graph.isPlaceholderData ? 0.6 : 1 }} aria-busy={graph.isFetching}>
          <Group gap="md" wrap="wrap">
            <Text size="sm" aria-live="polite">
              <strong>{reachable}</strong> reachable within {graph.data.depth} hop{graph.data.depth === 1 ? "" : "s"},{" "}
              {elements.edges.length} relationship{elements.edges.length === 1 ? "" : "s"}
            </Text>
            <Group gap="sm" aria-label="Legend">
              {LEGEND.map((item) => (
                <Group key={item.shape} gap={4} wrap="nowrap">
                  <ShapeIcon shape={item.shape} />
                  <Text size="xs" c="dimmed">
                    {item.label}
                  </Text>
                </Group>
              ))}
            </Group>
          </Group>
          {reachable === 0 && (
            <Text size="sm" c="dimmed">
              Nothing is reachable from this identity within {graph.data.depth} hop
              {graph.data.depth === 1 ? "" : "s"}: it assumes no role, grants no access and no identity holds it.
            </Text>
          )}
          {graph.data.truncated && (
            <Alert color="yellow" variant="light" icon={<IconInfoCircle size={16} />}>
              The graph is cut at 1,000 identities. Choose a smaller depth to see all of it.
            </Alert>
          )}
          <Suspense fallback={<LoadingState label="Loading the graph…" />}>
            <RelationshipGraph
              elements={elements}
              label={`Relationship graph of ${detail.name}: ${elements.nodes.length} identities and ${elements.edges.length} relationships. The same identities are listed in the table below.`}
              selected={selected}
              onSelect={setSelected}
              onOpen={(id) => navigate(`/nhis/${id}`)}
            />
          </Suspense>
          <Text size="xs" c="dimmed">
            Click a node to highlight it, double-click to open it. Scroll to zoom, drag to pan.
          </Text>
          <Table.ScrollContainer minWidth={620} type="native">
            <Table verticalSpacing={6} highlightOnHover>
              <caption style={{ captionSide: "top", textAlign: "left" }}>
                <Text size="sm" fw={600}>
                  Identities in the blast radius
                </Text>
              </caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Identity</Table.Th>
                  <Table.Th scope="col">Reached because it</Table.Th>
                  <Table.Th scope="col">Hops</Table.Th>
                  <Table.Th scope="col">Risk</Table.Th>
                  <Table.Th scope="col">Show</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {graph.data.nodes.map((node) => (
                  <Table.Tr key={node.id} bg={selected === node.id ? "var(--mantine-primary-color-light)" : undefined}>
                    <Table.Td>
                      <Stack gap={0}>
                        {node.id === detail.id ? (
                          <Group gap={6}>
                            <Text size="sm" fw={600}>
                              {node.name}
                            </Text>
                            <Badge size="xs" variant="light">
                              this identity
                            </Badge>
                          </Group>
                        ) : (
                          <Anchor component={Link} to={`/nhis/${node.id}`} size="sm">
                            {node.name}
                          </Anchor>
                        )}
                        <Text size="xs" c="dimmed">
                          {kindLabel(node.kind)} · {providerLabel(node.provider)} {node.account}
                        </Text>
                      </Stack>
                    </Table.Td>
                    <Table.Td fz="sm">{viaLabel(node.via ?? null)}</Table.Td>
                    <Table.Td fz="sm">{node.depth}</Table.Td>
                    <Table.Td>
                      <RiskScore score={node.risk_score} width={48} />
                    </Table.Td>
                    <Table.Td>
                      <UnstyledButton
                        fz="xs"
                        c="var(--mantine-primary-color-filled)"
                        onClick={() => setSelected(node.id === selected ? null : node.id)}
                        aria-pressed={selected === node.id}
                        aria-label={`Highlight ${node.name} in the graph`}
                      >
                        {selected === node.id ? "Highlighted" : "Highlight"}
                      </UnstyledButton>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </Paper>
  );
}
