/**
 * The overview's charts (@mantine/charts over Recharts, loaded with this page only). Each chart has a
 * visually hidden table with the same numbers, so screen readers get the data, not a picture of it.
 */
import "@mantine/charts/styles.css";

import type { ReactNode } from "react";
import { AreaChart, BarChart, DonutChart } from "@mantine/charts";
import {
  Anchor,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { Link } from "react-router";

import { formatCount } from "../../ui/format";
import {
  CATEGORIES,
  CATEGORY_INFO,
  ENVIRONMENT_COLOR,
  environmentLabel,
  kindLabel,
  providerLabel,
  RISK_BANDS,
  SEVERITIES,
  SEVERITY_COLOR,
} from "../labels";
import { countLabel, type Overview } from "../useOverview";

const SEVERITY_SHADE: Record<string, string> = {
  critical: "red.7",
  high: "orange.6",
  medium: "yellow.5",
  low: "blue.5",
  info: "gray.5",
};

export function ChartCard({
  title,
  description,
  children,
  actions,
}: {
  title: string;
  description?: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <Paper withBorder p="md" h="100%" component="section" aria-labelledby={id}>
      <Group justify="space-between" align="flex-start" mb="sm" wrap="nowrap">
        <Stack gap={2}>
          <Title order={2} fz="sm" id={id}>
            {title}
          </Title>
          {description && (
            <Text size="xs" c="dimmed">
              {description}
            </Text>
          )}
        </Stack>
        {actions}
      </Group>
      {children}
    </Paper>
  );
}

function HiddenTable({ caption, rows }: { caption: string; rows: [string, number][] }) {
  return (
    <VisuallyHidden>
      <table>
        <caption>{caption}</caption>
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </VisuallyHidden>
  );
}

/** Identities per risk band, each band a link to the inventory filtered to its score range. */
export function RiskDistribution({ overview }: { overview: Overview }) {
  const counts = new Map(overview.risk_distribution.map((item) => [countLabel(item, "band"), item.count]));
  const total = Math.max(overview.total, 1);
  return (
    <ChartCard title="Risk distribution" description="Identities by risk score band (0–100).">
      <Stack gap="sm" component="ul" style={{ listStyle: "none", margin: 0, padding: 0 }}>
        {RISK_BANDS.map((band) => {
          const count = counts.get(band.band) ?? 0;
          return (
            <Stack key={band.band} gap={4} component="li">
              <Group justify="space-between">
                <Anchor
                  component={Link}
                  to={`/inventory?risk_min=${band.min}&risk_max=${band.max}`}
                  size="sm"
                  aria-label={`${band.label} risk (${band.min}–${band.max}): ${count} identities`}
                >
                  {band.label}{" "}
                  <Text span size="xs" c="dimmed">
                    {band.min}–{band.max}
                  </Text>
                </Anchor>
                <Text size="sm" fw={600}>
                  {formatCount(count)}
                </Text>
              </Group>
              <Progress value={(100 * count) / total} color={band.color} size="md" aria-hidden="true" />
            </Stack>
          );
        })}
      </Stack>
    </ChartCard>
  );
}

/** Open findings per OWASP NHI category, stacked by severity. */
export function FindingsByCategory({ overview }: { overview: Overview }) {
  const data = CATEGORIES.map((category) => {
    const row: Record<string, string | number> = { category };
    for (const severity of SEVERITIES) row[severity] = 0;
    for (const item of overview.open_findings) {
      if (item.category === category) row[item.severity] = Number(row[item.severity] ?? 0) + item.count;
    }
    return row;
  });
  const present = SEVERITIES.filter((severity) => data.some((row) => Number(row[severity]) > 0));
  const totals: [string, number][] = CATEGORIES.map((category) => [
    `${category} ${CATEGORY_INFO[category]?.name ?? ""}`,
    overview.open_findings.filter((item) => item.category === category).reduce((sum, item) => sum + item.count, 0),
  ]);
  return (
    <ChartCard
      title="Open findings by OWASP NHI category"
      description="Stacked by severity. Open a category on the findings page."
    >
      <BarChart
        h={260}
        data={data}
        dataKey="category"
        type="stacked"
        series={(present.length ? present : ["critical"]).map((severity) => ({
          name: severity,
          color: SEVERITY_SHADE[severity] ?? SEVERITY_COLOR[severity] ?? "gray",
        }))}
        withLegend
        legendProps={{ verticalAlign: "bottom", height: 40 }}
        tickLine="none"
        gridAxis="y"
        valueFormatter={formatCount}
        aria-hidden="true"
      />
      <HiddenTable caption="Open findings by OWASP NHI category" rows={totals} />
      <Group gap={6} mt="xs" wrap="wrap">
        {totals
          .filter(([, count]) => count > 0)
          .map(([label]) => {
            const category = label.split(" ")[0] ?? "";
            return (
              <Anchor key={category} component={Link} to={`/findings?category=${category}`} size="xs">
                {category}
              </Anchor>
            );
          })}
      </Group>
    </ChartCard>
  );
}

/** How many findings were open on each day of the window. */
export function FindingsTrend({
  overview,
  window,
  onWindow,
}: {
  overview: Overview;
  window: number;
  onWindow: (days: number) => void;
}) {
  const data = overview.trend.map((point) => ({ day: point.day.slice(5), open: point.open }));
  const last = overview.trend.at(-1)?.open ?? 0;
  const first = overview.trend[0]?.open ?? 0;
  return (
    <ChartCard
      title="Open findings over time"
      description={`${formatCount(last)} open today, ${last >= first ? "+" : "−"}${formatCount(Math.abs(last - first))} over ${window} days.`}
      actions={
        <SegmentedControl
          size="xs"
          aria-label="Trend window"
          data={[
            { value: "7", label: "7 d" },
            { value: "30", label: "30 d" },
            { value: "90", label: "90 d" },
          ]}
          value={String(window)}
          onChange={(value) => onWindow(Number(value))}
        />
      }
    >
      <AreaChart
        h={240}
        data={data}
        dataKey="day"
        series={[{ name: "open", label: "Open findings", color: "red.6" }]}
        curveType="monotone"
        tickLine="none"
        gridAxis="y"
        withDots={false}
        valueFormatter={formatCount}
        aria-hidden="true"
      />
      <HiddenTable
        caption="Open findings per day"
        rows={overview.trend.map((point) => [point.day, point.open] as [string, number])}
      />
    </ChartCard>
  );
}

export function ByProvider({ overview }: { overview: Overview }) {
  const data = overview.by_provider.map((item) => ({
    provider: providerLabel(countLabel(item, "provider")),
    identities: item.count,
  }));
  return (
    <ChartCard title="Identities by provider">
      <BarChart
        h={220}
        data={data}
        dataKey="provider"
        series={[{ name: "identities", label: "Identities", color: "nexora.5" }]}
        tickLine="none"
        gridAxis="y"
        valueFormatter={formatCount}
        aria-hidden="true"
      />
      <HiddenTable caption="Identities by provider" rows={data.map((row) => [row.provider, row.identities])} />
    </ChartCard>
  );
}

export function ByEnvironment({ overview }: { overview: Overview }) {
  const data = overview.by_environment.map((item) => {
    const environment = countLabel(item, "environment");
    return {
      environment,
      name: environmentLabel(environment),
      value: item.count,
      color: `${ENVIRONMENT_COLOR[environment] ?? "gray"}.6`,
    };
  });
  return (
    <ChartCard title="Identities by environment">
      <Group justify="center" gap="xl" wrap="wrap">
        <DonutChart
          data={data.map(({ name, value, color }) => ({ name, value, color }))}
          size={150}
          thickness={22}
          chartLabel={formatCount(overview.total)}
          valueFormatter={formatCount}
          aria-hidden="true"
        />
        <Stack gap={6} component="ul" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {data.map((item) => (
            <Group key={item.environment} gap={8} component="li" wrap="nowrap">
              <span
                aria-hidden="true"
                style={{
                  width: 10,
                  height: 10,
                  borderRadius: 2,
                  background: `var(--mantine-color-${item.color.replace(".", "-")})`,
                }}
              />
              <Anchor component={Link} to={`/inventory?environment=${item.environment}`} size="sm">
                {item.name}
              </Anchor>
              <Text size="sm" fw={600} ml="auto">
                {formatCount(item.value)}
              </Text>
            </Group>
          ))}
        </Stack>
      </Group>
    </ChartCard>
  );
}

export function ByKind({ overview }: { overview: Overview }) {
  const top = overview.by_kind.slice(0, 10);
  const max = Math.max(...top.map((item) => item.count), 1);
  return (
    <ChartCard
      title="Identities by kind"
      description={top.length < overview.by_kind.length ? "The ten most common." : undefined}
    >
      <Table verticalSpacing={4} withRowBorders={false}>
        <Table.Tbody>
          {top.map((item) => {
            const kind = countLabel(item, "kind");
            return (
              <Table.Tr key={kind}>
                <Table.Td w="45%">
                  <Anchor component={Link} to={`/inventory?kind=${kind}`} size="sm">
                    {kindLabel(kind)}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Progress value={(100 * item.count) / max} size="sm" aria-hidden="true" />
                </Table.Td>
                <Table.Td w={64} ta="right" fz="sm" fw={600}>
                  {formatCount(item.count)}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </ChartCard>
  );
}
