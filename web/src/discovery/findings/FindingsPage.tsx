import { useMemo } from "react";
import {
  Anchor,
  Badge,
  Button,
  CloseButton,
  Group,
  Box,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { IconShieldCheck } from "@tabler/icons-react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { DataTable, type Column } from "../../ui/DataTable";
import { formatCount } from "../../ui/format";
import { PageHeader } from "../../ui/PageHeader";
import { EmptyState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { CategoryBadge, SeverityBadge, StatusBadge } from "../badges";
import { CATEGORIES, CATEGORY_INFO, kindLabel, SEVERITIES } from "../labels";
import { MultiFilter } from "../../ui/MultiFilter";
import { useFindings, type Finding } from "../useFindings";
import { useNhi } from "../useNhis";
import { useOverview } from "../useOverview";
import { FindingDrawer } from "./FindingDrawer";
import { findingsSearchParams, parseFindingsView, type FindingsView } from "./findingsQuery";

const STATUS_OPTIONS = [
  { value: "open", label: "Open" },
  { value: "resolved", label: "Resolved" },
  { value: "all", label: "All" },
];

/** Open findings per OWASP category, each a toggle for the category filter. */
function CategorySummary({ view, onToggle }: { view: FindingsView; onToggle: (category: string) => void }) {
  const overview = useOverview();
  const totals = useMemo(() => {
    const counts = new Map<string, number>();
    for (const item of overview.data?.open_findings ?? []) {
      counts.set(item.category, (counts.get(item.category) ?? 0) + item.count);
    }
    return counts;
  }, [overview.data]);
  if (!overview.data) return null;
  return (
    <SimpleGrid cols={{ base: 2, xs: 3, sm: 5 }} spacing="xs" mb="md" aria-label="Open findings by OWASP category">
      {CATEGORIES.map((category) => {
        const active = view.category.includes(category);
        return (
          <UnstyledButton
            key={category}
            onClick={() => onToggle(category)}
            aria-pressed={active}
            aria-label={`${category} ${CATEGORY_INFO[category]?.name ?? ""}: ${totals.get(category) ?? 0} open`}
          >
            <Paper
              withBorder
              p="xs"
              h="100%"
              style={active ? { borderColor: "var(--mantine-primary-color-filled)" } : undefined}
              bg={active ? "var(--mantine-primary-color-light)" : undefined}
            >
              <Group justify="space-between" wrap="nowrap" gap={4}>
                <Text size="xs" fw={700}>
                  {category}
                </Text>
                <Text size="sm" fw={700} c={(totals.get(category) ?? 0) > 0 ? undefined : "dimmed"}>
                  {formatCount(totals.get(category) ?? 0)}
                </Text>
              </Group>
              <Text size="xs" c="dimmed" lineClamp={1}>
                {CATEGORY_INFO[category]?.name}
              </Text>
            </Paper>
          </UnstyledButton>
        );
      })}
    </SimpleGrid>
  );
}

function IdentityFilter({ id, onClear }: { id: string; onClear: () => void }) {
  const nhi = useNhi(id);
  return (
    <Badge
      size="lg"
      variant="light"

      rightSection={<CloseButton size="xs" aria-label="Show findings of every identity" onClick={onClear} />}
    >
      Identity: {nhi.data?.name ?? (nhi.isError ? "not found" : "…")}
    </Badge>
  );
}

/** Posture findings by OWASP NHI category, severity and status, each with its evidence and fix. */
export default function FindingsPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const view = useMemo(() => parseFindingsView(params), [params]);
  const findings = useFindings(view);
  const rows = findings.data?.pages.flatMap((page) => page.items);
  const open = rows?.find((finding) => finding.id === view.open) ?? null;

  const change = (changes: Partial<FindingsView>, replace = false) =>
    navigate({ search: findingsSearchParams({ ...view, ...changes }).toString() }, { replace });
  const toggleCategory = (category: string) =>
    change({
      category: view.category.includes(category)
        ? view.category.filter((value) => value !== category)
        : [...view.category, category],
      open: null,
    });
  const filtered = view.category.length > 0 || view.severity.length > 0 || view.nhiId !== null;

  const columns: Column<Finding>[] = [
    {
      key: "severity",
      header: "Severity",
      width: 96,
      render: (finding) => <SeverityBadge severity={finding.severity} />,
    },
    {
      key: "title",
      header: "Finding",
      render: (finding) => (
        <Anchor
          component="button"
          type="button"
          size="sm"
          ta="left"
          onClick={() => finding.id && change({ open: finding.id })}
          style={{ overflowWrap: "anywhere" }}
        >
          {finding.title}
        </Anchor>
      ),
    },
    { key: "category", header: "Category", render: (finding) => <CategoryBadge category={finding.category} /> },
    {
      key: "identity",
      header: "Identity",
      render: (finding) => (
        <Stack gap={0}>
          {finding.nhi_id ? (
            <Anchor component={Link} to={`/nhis/${finding.nhi_id}`} size="sm" style={{ overflowWrap: "anywhere" }}>
              {finding.nhi_name}
            </Anchor>
          ) : (
            <Text size="sm">{finding.nhi_name}</Text>
          )}
          <Text size="xs" c="dimmed">
            {kindLabel(finding.nhi_kind)}
          </Text>
        </Stack>
      ),
    },
    { key: "status", header: "Status", render: (finding) => <StatusBadge status={finding.status} /> },
    {
      key: "first_seen",
      header: "First seen",
      hideOnPhone: true,
      render: (finding) => (
        <Text size="sm" style={{ whiteSpace: "nowrap" }}>
          <Time value={finding.first_seen_at} />
        </Text>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Findings"
        description="Problems the posture checks found, by OWASP Non-Human Identities Top 10 category. Each has its evidence and a recommended fix."
      />
      <CategorySummary view={view} onToggle={toggleCategory} />
      <Paper withBorder p="sm" mb="md" component="section" aria-label="Filters">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Stack gap={4}>
            <Text size="sm" fw={500} id="status-label">
              Status
            </Text>
            <SegmentedControl
              aria-labelledby="status-label"
              data={STATUS_OPTIONS}
              value={view.status}
              onChange={(value) => change({ status: value as FindingsView["status"], open: null })}
            />
          </Stack>
          <Box miw={240}>
            <MultiFilter
              label="Category"
              noun="categories"
              options={CATEGORIES.map((value) => ({ value, label: `${value} ${CATEGORY_INFO[value]?.name ?? ""}` }))}
              value={view.category}
              onChange={(value) => change({ category: value, open: null })}
            />
          </Box>
          <Box miw={180}>
            <MultiFilter
              label="Severity"
              noun="severities"
              options={SEVERITIES.map((value) => ({ value, label: value }))}
              value={view.severity}
              onChange={(value) => change({ severity: value, open: null })}
            />
          </Box>
          {view.nhiId && <IdentityFilter id={view.nhiId} onClear={() => change({ nhiId: null, open: null })} />}
          {filtered && (
            <Button
              variant="subtle"
              color="gray"
              onClick={() => change({ category: [], severity: [], nhiId: null, open: null })}
            >
              Clear filters
            </Button>
          )}
        </Group>
      </Paper>
      <DataTable
        caption="Findings"
        columns={columns}
        rows={rows}
        rowKey={(finding) => finding.id ?? `${finding.nhi_id}:${finding.check_id}`}
        loading={findings.isPending}
        error={findings.error}
        onRetry={() => void findings.refetch()}
        hasMore={findings.hasNextPage}
        loadingMore={findings.isFetchingNextPage}
        onLoadMore={() => void findings.fetchNextPage()}
        minWidth={860}
        empty={
          <EmptyState
            icon={<IconShieldCheck size={22} stroke={1.6} />}
            title={filtered || view.status !== "open" ? "No finding matches these filters" : "No open findings"}
            description={
              filtered || view.status !== "open"
                ? "Loosen or clear the filters to see more."
                : "Every check passes for every discovered identity. New findings appear here after each discovery run."
            }
          />
        }
      />
      <FindingDrawer finding={open} onClose={() => change({ open: null }, true)} />
    </>
  );
}
