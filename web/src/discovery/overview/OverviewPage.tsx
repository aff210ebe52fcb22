import { Button, Grid, Group, Paper, SimpleGrid } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import {
  IconAlertTriangle,
  IconClockPause,
  IconFingerprint,
  IconPlugConnected,
  IconShieldExclamation,
  IconUserQuestion,
} from "@tabler/icons-react";
import { Link, useSearchParams } from "react-router";

import { AlertCounts } from "../../analytics/AlertCounts";
import { errorMessage } from "../../api/problem";
import { hasRole } from "../../auth/roles";
import { useMe } from "../../auth/useMe";
import { formatCount } from "../../ui/format";
import { PageHeader } from "../../ui/PageHeader";
import { StatCard } from "../../ui/StatCard";
import { EmptyState, ErrorState, LoadingState } from "../../ui/states";
import { useLoadDemo, useOverview } from "../useOverview";
import {
  ByEnvironment,
  ByKind,
  ByProvider,
  FindingsByCategory,
  FindingsTrend,
  RiskDistribution,
} from "./OverviewCharts";

const WINDOWS = [7, 30, 90];

function Empty() {
  const me = useMe();
  const demo = useLoadDemo();
  const isAdmin = hasRole(me.data?.roles, "admin");
  return (
    <Paper withBorder>
      <EmptyState
        icon={<IconFingerprint size={22} stroke={1.6} />}
        title="No identities discovered yet"
        description={
          isAdmin
            ? "Add a connector for your AWS accounts, clusters, GitHub organisation or Vault, or load a demo environment to explore the console."
            : "An admin adds connectors; identities appear here after their first run."
        }
        action={
          isAdmin ? (
            <Group gap="xs" justify="center">
              <Button component={Link} to="/connectors" leftSection={<IconPlugConnected size={16} />}>
                Add a connector
              </Button>
              <Button
                variant="default"
                loading={demo.isPending}
                onClick={() =>
                  demo.mutate(undefined, {
                    onSuccess: (loaded) =>
                      notifications.show({
                        color: "teal",
                        title: "Demo environment loaded",
                        message: `${formatCount(loaded.run.counts.seen ?? 0)} identities discovered.`,
                      }),
                    onError: (error) =>
                      notifications.show({
                        color: "red",
                        title: "Could not load the demo",
                        message: errorMessage(error),
                      }),
                  })
                }
              >
                Load demo data
              </Button>
            </Group>
          ) : undefined
        }
      />
    </Paper>
  );
}

/** The security team's first screen: how many identities, how risky, what is open and where it is going. */
export default function OverviewPage() {
  const [params, setParams] = useSearchParams();
  const requested = Number(params.get("window"));
  const window = WINDOWS.includes(requested) ? requested : 30;
  const overview = useOverview(window);

  const header = (
    <PageHeader
      title="Overview"
      description="Your non-human identities at a glance: where they are, how risky they are, and what needs attention."
    />
  );
  if (overview.isPending) {
    return (
      <>
        {header}
        <LoadingState label="Loading the overview…" />
      </>
    );
  }
  if (overview.isError) {
    return (
      <>
        {header}
        <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />
      </>
    );
  }
  const data = overview.data;
  const openFindings = data.open_findings.reduce((sum, item) => sum + item.count, 0);
  const critical = data.open_findings
    .filter((item) => item.severity === "critical")
    .reduce((sum, item) => sum + item.count, 0);

  return (
    <>
      {header}
      {data.total === 0 ? (
        <Empty />
      ) : (
        <>
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} spacing="md" mb="md">
            <StatCard
              label="Identities"
              value={data.total}
              icon={<IconFingerprint size={20} />}
              to="/inventory"
              hint={`${data.by_provider.length} provider${data.by_provider.length === 1 ? "" : "s"}`}
            />
            <StatCard
              label="Open findings"
              value={openFindings}
              icon={<IconShieldExclamation size={20} />}
              color="red"
              to="/findings"
              hint={`${formatCount(critical)} critical`}
            />
            <StatCard
              label="With findings"
              value={data.with_findings}
              icon={<IconAlertTriangle size={20} />}
              color="orange"
              to="/inventory?has_findings=true"
              hint="identities with an open finding"
            />
            <StatCard
              label="Stale"
              value={data.stale}
              icon={<IconClockPause size={20} />}
              color="yellow"
              to="/inventory?stale=true"
              hint="unused beyond the threshold"
            />
            <StatCard
              label="Orphaned"
              value={data.orphaned}
              icon={<IconUserQuestion size={20} />}
              color="grape"
              to="/inventory?owner=none"
              hint="identities nobody owns"
            />
          </SimpleGrid>
          <AlertCounts />
          <Grid gutter="md">
            <Grid.Col span={{ base: 12, lg: 7 }}>
              <FindingsByCategory overview={data} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, lg: 5 }}>
              <RiskDistribution overview={data} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, lg: 7 }}>
              <FindingsTrend
                overview={data}
                window={window}
                onWindow={(days) =>
                  setParams(days === 30 ? {} : { window: String(days) }, { replace: true, preventScrollReset: true })
                }
              />
            </Grid.Col>
            <Grid.Col span={{ base: 12, lg: 5 }}>
              <ByEnvironment overview={data} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <ByProvider overview={data} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <ByKind overview={data} />
            </Grid.Col>
          </Grid>
        </>
      )}
    </>
  );
}
