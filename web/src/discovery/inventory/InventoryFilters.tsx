import { useEffect, useState } from "react";
import { Badge, Button, Checkbox, Collapse, Group, NumberInput, Paper, Select, Grid, TextInput } from "@mantine/core";
import { useDebouncedCallback, useMediaQuery } from "@mantine/hooks";
import { IconAdjustmentsHorizontal, IconSearch, IconX } from "@tabler/icons-react";

import { MultiFilter, type FilterOption } from "../../ui/MultiFilter";
import { activeFilterCount, type InventoryQuery } from "./inventoryQuery";
import { environmentLabel, ENVIRONMENTS, kindLabel, KINDS, PROVIDERS, providerLabel } from "../labels";
import { countLabel, useOverview, type Overview } from "../useOverview";

type Change = (changes: Partial<InventoryQuery>, options?: { replace?: boolean }) => void;

const TRISTATE = [
  { value: "any", label: "Any" },
  { value: "true", label: "Yes" },
  { value: "false", label: "No" },
];

function tristate(value: boolean | null): string {
  return value === null ? "any" : String(value);
}

function fromTristate(value: string | null): boolean | null {
  return value === "true" ? true : value === "false" ? false : null;
}

/** Options with the tenant's counts once the overview is known; the selected values always stay listed. */
function options(
  field: "provider" | "kind" | "environment",
  fallback: readonly string[],
  selected: string[],
  overview: Overview | undefined,
): FilterOption[] {
  const label = field === "provider" ? providerLabel : field === "kind" ? kindLabel : environmentLabel;
  const groups = {
    provider: overview?.by_provider,
    kind: overview?.by_kind,
    environment: overview?.by_environment,
  }[field];
  const counts = new Map((groups ?? []).map((count) => [countLabel(count, field), count.count]));
  const values = groups ? [...counts.keys()] : [...fallback];
  const all = [...values, ...selected.filter((value) => !values.includes(value))];
  return all.map((value) => ({ value, label: label(value), count: counts.get(value) }));
}

/** Text search (debounced), provider/kind/environment, owner, risk range, staleness and findings. */
export function InventoryFilters({ query, onChange }: { query: InventoryQuery; onChange: Change }) {
  const phone = useMediaQuery("(max-width: 48em)", false, { getInitialValueInEffect: false });
  const [expanded, setExpanded] = useState(false);
  const [text, setText] = useState(query.q);
  const [owner, setOwner] = useState(query.owner === "none" ? "" : (query.owner ?? ""));
  const search = useDebouncedCallback((value: string) => onChange({ q: value.trim() }, { replace: true }), 300);
  const ownerSearch = useDebouncedCallback(
    (value: string) => onChange({ owner: value.trim() || null }, { replace: true }),
    400,
  );
  // The counts cost the server a pass over the inventory: ask for them only once a filter list is opened.
  const [wantCounts, setWantCounts] = useState(false);
  const overview = useOverview(30, { enabled: wantCounts }).data;
  const providers = options("provider", PROVIDERS, query.provider, overview);
  const kinds = options("kind", KINDS, query.kind, overview);
  const environments = options("environment", ENVIRONMENTS, query.environment, overview);
  const askForCounts = () => setWantCounts(true);
  const active = activeFilterCount(query);

  // Back/forward and "clear" change the URL: the inputs follow it.
  useEffect(() => setText((current) => (current.trim() === query.q ? current : query.q)), [query.q]);
  useEffect(() => {
    const wanted = query.owner === "none" ? "" : (query.owner ?? "");
    setOwner((current) => (current.trim() === wanted ? current : wanted));
  }, [query.owner]);

  const clear = () =>
    onChange({
      provider: [],
      kind: [],
      environment: [],
      owner: null,
      riskMin: null,
      riskMax: null,
      stale: null,
      hasFindings: null,
      q: "",
      connectorId: null,
    });

  const searchBox = (
    <TextInput
      aria-label="Search identities"
      placeholder="Search name, external ID or owner"
      leftSection={<IconSearch size={16} stroke={1.6} />}
      value={text}
      maxLength={200}
      onChange={(event) => {
        setText(event.currentTarget.value);
        search(event.currentTarget.value);
      }}
      onKeyDown={(event) => {
        if (event.key === "Enter") {
          search.cancel();
          onChange({ q: text.trim() }, { replace: true });
        }
      }}
      style={{ flex: 1 }}
    />
  );
  const clearButton = (
    <Button
      variant="subtle"
      color="gray"
      leftSection={<IconX size={14} />}
      disabled={active === 0}
      onClick={clear}
      fullWidth={!phone}
    >
      Clear filters
    </Button>
  );
  const wide = { base: 12, sm: 6, lg: 2 };

  const fields = (
    <>
      <Grid.Col span={wide}>
        <MultiFilter
          label="Provider"
          noun="providers"
          options={providers}
          onOpen={askForCounts}
          value={query.provider}
          onChange={(value) => onChange({ provider: value })}
        />
      </Grid.Col>
      <Grid.Col span={{ base: 12, sm: 6, lg: 3 }}>
        <MultiFilter
          label="Kind"
          noun="kinds"
          options={kinds}
          onOpen={askForCounts}
          value={query.kind}
          onChange={(value) => onChange({ kind: value })}
        />
      </Grid.Col>
      <Grid.Col span={wide}>
        <MultiFilter
          label="Environment"
          noun="environments"
          options={environments}
          onOpen={askForCounts}
          value={query.environment}
          onChange={(value) => onChange({ environment: value })}
        />
      </Grid.Col>
      {!phone && <Grid.Col span={{ base: 12, sm: 6, lg: 2 }}>{clearButton}</Grid.Col>}
      <Grid.Col span={{ base: 12, sm: 6, lg: 3 }}>
        <TextInput
          label="Owner"
          placeholder={query.owner === "none" ? "Unowned only" : "Exact owner, e.g. payments"}
          value={owner}
          disabled={query.owner === "none"}
          maxLength={200}
          onChange={(event) => {
            setOwner(event.currentTarget.value);
            ownerSearch(event.currentTarget.value);
          }}
        />
      </Grid.Col>
      <Grid.Col span={{ base: 12, sm: 6, lg: 2 }}>
        <Checkbox
          mb={8}
          label="Unowned only"
          checked={query.owner === "none"}
          onChange={(event) => onChange({ owner: event.currentTarget.checked ? "none" : null })}
        />
      </Grid.Col>
      <Grid.Col span={{ base: 12, sm: 6, lg: 3 }}>
        <Group grow gap="xs" wrap="nowrap">
          <NumberInput
            label="Risk from"
            min={0}
            max={100}
            clampBehavior="strict"
            allowDecimal={false}
            value={query.riskMin ?? ""}
            onChange={(value) => onChange({ riskMin: typeof value === "number" ? value : null }, { replace: true })}
          />
          <NumberInput
            label="Risk to"
            min={0}
            max={100}
            clampBehavior="strict"
            allowDecimal={false}
            value={query.riskMax ?? ""}
            onChange={(value) => onChange({ riskMax: typeof value === "number" ? value : null }, { replace: true })}
          />
        </Group>
      </Grid.Col>
      <Grid.Col span={{ base: 6, sm: 3, lg: 2 }}>
        <Select
          label="Stale"
          data={TRISTATE}
          value={tristate(query.stale)}
          onChange={(value) => onChange({ stale: fromTristate(value) })}
          allowDeselect={false}
        />
      </Grid.Col>
      <Grid.Col span={{ base: 6, sm: 3, lg: 2 }}>
        <Select
          label="Open findings"
          data={TRISTATE}
          value={tristate(query.hasFindings)}
          onChange={(value) => onChange({ hasFindings: fromTristate(value) })}
          allowDeselect={false}
        />
      </Grid.Col>
    </>
  );

  if (!phone) {
    return (
      <Paper withBorder p="sm" mb="md" component="section" aria-label="Filters">
        <Grid gutter="sm" align="flex-end">
          <Grid.Col span={{ base: 12, lg: 3 }}>{searchBox}</Grid.Col>
          {fields}
        </Grid>
      </Paper>
    );
  }
  return (
    <Paper withBorder p="sm" mb="md" component="section" aria-label="Filters">
      <Group gap="sm" wrap="nowrap">
        {searchBox}
        <Button
          variant="default"
          leftSection={<IconAdjustmentsHorizontal size={16} />}
          rightSection={active > 0 ? <Badge size="xs">{active}</Badge> : undefined}
          onClick={() => setExpanded((value) => !value)}
          aria-expanded={expanded}
          aria-controls="inventory-filter-details"
        >
          Filters
        </Button>
      </Group>
      <Collapse in={expanded} id="inventory-filter-details">
        <Grid gutter="sm" mt="sm" align="flex-end">
          {fields}
        </Grid>
        <Group justify="flex-end" mt="sm">
          {clearButton}
        </Group>
      </Collapse>
    </Paper>
  );
}
