import { useState } from "react";
import { Anchor, Badge, Group, Paper, SimpleGrid, Tabs, Title } from "@mantine/core";
import {
  IconActivity,
  IconArrowLeft,
  IconBinaryTree2,
  IconFileDescription,
  IconListDetails,
} from "@tabler/icons-react";
import { Link, useLocation, useParams, useSearchParams } from "react-router";

import { NhiActivity } from "../../analytics/NhiActivity";
import { ApiError } from "../../api/problem";
import { hasRole } from "../../auth/roles";
import { useMe } from "../../auth/useMe";
import { JsonDetails } from "../../ui/Details";
import { PageHeader } from "../../ui/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../ui/states";
import { EnvironmentBadge } from "../badges";
import { kindLabel, providerLabel } from "../labels";
import { useNhi, useNhiGraph } from "../useNhis";
import { EditNhiModal } from "./EditNhiModal";
import { DEPTHS, NhiRelationships } from "./NhiRelationships";
import { NhiSummary } from "./NhiSummary";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABS = ["summary", "graph", "activity", "raw"] as const;
type Tab = (typeof TABS)[number];
const DEFAULT_DEPTH = 2;

function BackLink() {
  const location = useLocation();
  const from = (location.state as { from?: unknown } | null)?.from;
  const to = typeof from === "string" && from.startsWith("/inventory") ? from : "/inventory";
  return (
    <Anchor component={Link} to={to} size="sm" c="dimmed">
      <Group gap={4} component="span">
        <IconArrowLeft size={14} />
        Inventory
      </Group>
    </Anchor>
  );
}

function NotFound() {
  return (
    <>
      <BackLink />
      <PageHeader title="Identity not found" />
      <Paper withBorder>
        <EmptyState
          title="There is no identity with this address"
          description="It may have been removed by a later discovery run, or the link is mistyped."
          action={
            <Anchor component={Link} to="/inventory" size="sm">
              Back to the inventory
            </Anchor>
          }
        />
      </Paper>
    </>
  );
}

/** One identity: attributes and overrides, risk and its factors, findings, exposures, its graph and its activity. */
export default function NhiDetailPage() {
  const { id = "" } = useParams();
  if (!UUID.test(id)) return <NotFound />;
  return <NhiDetail id={id.toLowerCase()} />;
}

function NhiDetail({ id }: { id: string }) {
  const [params, setParams] = useSearchParams();
  const tab: Tab = TABS.includes(params.get("tab") as Tab) ? (params.get("tab") as Tab) : "summary";
  const depthParam = params.get("depth") ?? "";
  const depth = DEPTHS.includes(depthParam) ? Number(depthParam) : DEFAULT_DEPTH;
  const detail = useNhi(id);
  // Exposures and owners do not depend on depth: the summary asks for the cheapest graph.
  const exposures = useNhiGraph(id, 0);
  const me = useMe();
  const [editing, setEditing] = useState(false);

  const setParam = (name: string, value: string, fallback: string) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value === fallback) next.delete(name);
        else next.set(name, value);
        return next;
      },
      { replace: true, preventScrollReset: true },
    );

  if (detail.isPending) return <LoadingState label="Loading the identity…" />;
  if (detail.isError) {
    if (detail.error instanceof ApiError && detail.error.status === 404) return <NotFound />;
    return (
      <>
        <BackLink />
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      </>
    );
  }
  const nhi = detail.data;
  const canEdit = hasRole(me.data?.roles, "analyst");

  return (
    <>
      <BackLink />
      <PageHeader
        title={nhi.name}
        description={
          <Group gap={6} wrap="wrap">
            <Badge variant="light" size="sm">
              {kindLabel(nhi.kind)}
            </Badge>
            <Badge variant="default" size="sm">
              {providerLabel(nhi.provider)}
            </Badge>
            <EnvironmentBadge environment={nhi.environment} overridden={nhi.environment_overridden} />
          </Group>
        }
      />
      <Tabs value={tab} onChange={(value) => setParam("tab", value ?? "summary", "summary")} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Identity sections">
          <Tabs.Tab value="summary" leftSection={<IconListDetails size={16} stroke={1.6} />}>
            Summary
          </Tabs.Tab>
          <Tabs.Tab value="graph" leftSection={<IconBinaryTree2 size={16} stroke={1.6} />}>
            Relationships
          </Tabs.Tab>
          <Tabs.Tab value="activity" leftSection={<IconActivity size={16} stroke={1.6} />}>
            Activity
          </Tabs.Tab>
          <Tabs.Tab value="raw" leftSection={<IconFileDescription size={16} stroke={1.6} />}>
            Raw data
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="summary">
          <NhiSummary
            detail={nhi}
            graph={exposures.data}
            graphError={exposures.error}
            onEdit={canEdit ? () => setEditing(true) : undefined}
          />
        </Tabs.Panel>
        <Tabs.Panel value="graph">
          <NhiRelationships
            detail={nhi}
            depth={depth}
            onDepth={(value) => setParam("depth", String(value), String(DEFAULT_DEPTH))}
          />
        </Tabs.Panel>
        <Tabs.Panel value="activity">
          <NhiActivity nhiId={nhi.id} />
        </Tabs.Panel>
        <Tabs.Panel value="raw">
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
            <Paper withBorder p="md" component="section" aria-labelledby="permissions-heading">
              <Title order={2} fz="md" id="permissions-heading" mb="xs">
                Permissions summary
              </Title>
              <JsonDetails value={nhi.permissions} empty="No permissions recorded." />
            </Paper>
            <Paper withBorder p="md" component="section" aria-labelledby="raw-heading">
              <Title order={2} fz="md" id="raw-heading" mb="xs">
                Provider attributes
              </Title>
              <JsonDetails value={nhi.attributes} empty="No attributes recorded." />
            </Paper>
          </SimpleGrid>
        </Tabs.Panel>
      </Tabs>
      {canEdit && <EditNhiModal detail={nhi} opened={editing} onClose={() => setEditing(false)} />}
    </>
  );
}
