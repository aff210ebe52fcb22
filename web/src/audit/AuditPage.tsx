import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Menu,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconChevronDown, IconDownload, IconLock, IconScale, IconSearch } from "@tabler/icons-react";
import { useNavigate, useSearchParams } from "react-router";

import { useApi } from "../api/ApiProvider";
import { errorMessage } from "../api/problem";
import { hasRole } from "../auth/roles";
import { useMe } from "../auth/useMe";
import { DataTable, type Column } from "../ui/DataTable";
import { datedFilename, saveBlob } from "../ui/download";
import { PageHeader } from "../ui/PageHeader";
import { redactText } from "../ui/redact";
import { EmptyState, LoadingState } from "../ui/states";
import { Time } from "../ui/Time";
import {
  auditSearchParams,
  EMPTY_SEARCH,
  fromLocalInput,
  OUTCOMES,
  parseAuditSearch,
  searchProblem,
  toLocalInput,
  type AuditSearch,
} from "./auditQuery";
import { EntryDrawer, OUTCOME_COLOR } from "./EntryDrawer";
import { IntegrityPanel } from "./IntegrityPanel";
import { downloadBundle, exportEntries, useEntries, type Entry } from "./useAudit";

function SearchForm({ search, onSearch }: { search: AuditSearch; onSearch: (search: AuditSearch) => void }) {
  const [draft, setDraft] = useState(search);
  const [since, setSince] = useState(toLocalInput(search.since));
  const [until, setUntil] = useState(toLocalInput(search.until));
  useEffect(() => {
    setDraft(search);
    setSince(toLocalInput(search.since));
    setUntil(toLocalInput(search.until));
  }, [search]);
  const wanted = { ...draft, since: fromLocalInput(since), until: fromLocalInput(until) };
  const problem = searchProblem(wanted);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!problem)
      onSearch({ ...wanted, actor: wanted.actor.trim(), action: wanted.action.trim(), target: wanted.target.trim() });
  };
  const text = (key: "actor" | "action" | "target", label: string, placeholder: string) => (
    <TextInput
      label={label}
      placeholder={placeholder}
      value={draft[key]}
      maxLength={512}
      spellCheck={false}
      onChange={(event) => {
        const value = event.currentTarget.value;
        setDraft((current) => ({ ...current, [key]: value }));
      }}
    />
  );
  return (
    <Paper withBorder p="sm" mb="md" component="form" onSubmit={submit} aria-label="Search the audit log" noValidate>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 6 }} spacing="sm">
        {text("action", "Action", "e.g. auth.login_failed")}
        {text("actor", "Actor", "e.g. user:<id>")}
        {text("target", "Target", "an id")}
        <Select
          label="Outcome"
          data={[{ value: "", label: "Any" }, ...OUTCOMES.map((value) => ({ value, label: value }))]}
          value={draft.outcome ?? ""}
          onChange={(value) =>
            setDraft((current) => ({ ...current, outcome: (value || null) as AuditSearch["outcome"] }))
          }
          allowDeselect={false}
        />
        <TextInput
          label="From"
          type="datetime-local"
          value={since}
          onChange={(event) => setSince(event.currentTarget.value)}
          error={problem ?? undefined}
        />
        <TextInput
          label="To"
          type="datetime-local"
          value={until}
          onChange={(event) => setUntil(event.currentTarget.value)}
        />
      </SimpleGrid>
      <Group justify="space-between" mt="sm" wrap="wrap">
        <Text size="xs" c="dimmed">
          Actor, action and target match exactly. Times are your local time.
        </Text>
        <Group gap="xs">
          <Button variant="subtle" color="gray" onClick={() => onSearch(EMPTY_SEARCH)}>
            Reset
          </Button>
          <Button type="submit" leftSection={<IconSearch size={16} />} disabled={problem !== null}>
            Search
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}

function ExportMenu({ search }: { search: AuditSearch }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const run = async (make: () => Promise<Blob>, filename: string) => {
    setBusy(true);
    try {
      saveBlob(await make(), filename);
    } catch (error) {
      notifications.show({ color: "red", title: "Export failed", message: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Menu position="bottom-end">
      <Menu.Target>
        <Button
          variant="default"
          leftSection={<IconDownload size={16} />}
          rightSection={<IconChevronDown size={14} />}
          loading={busy}
        >
          Export
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item onClick={() => void run(() => exportEntries(api, search), datedFilename("nexora-audit", "ndjson"))}>
          Matching entries (NDJSON)
        </Menu.Item>
        <Menu.Item onClick={() => void run(() => downloadBundle(api), datedFilename("nexora-audit-bundle", "jsonl"))}>
          Verification bundle (whole log)
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** The tamper-evident audit log: search, inspect entries, verify the log and export evidence. */
export default function AuditPage() {
  const me = useMe();
  if (me.isPending) return <LoadingState />;
  if (!hasRole(me.data?.roles, "auditor")) {
    return (
      <>
        <PageHeader title="Audit log" />
        <Paper withBorder>
          <EmptyState
            icon={<IconLock size={22} stroke={1.6} />}
            title="The audit log needs the auditor role"
            description="Ask an admin to give you the auditor role to search, verify and export the audit log."
          />
        </Paper>
      </>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const search = useMemo(() => parseAuditSearch(params), [params]);
  const entries = useEntries(search);
  const [selected, setSelected] = useState<Entry | null>(null);
  const rows = entries.data?.pages.flatMap((page) => page.items);
  const searching = auditSearchParams(search).toString() !== "";

  const columns: Column<Entry>[] = [
    {
      key: "action",
      header: "Action",
      render: (entry) => (
        <Stack gap={0}>
          <Anchor
            component="button"
            type="button"
            size="sm"
            ff="monospace"
            ta="left"
            onClick={() => setSelected(entry)}
          >
            {entry.action}
          </Anchor>
          <Text size="xs" c="dimmed">
            #{entry.seq}
          </Text>
        </Stack>
      ),
    },
    { key: "time", header: "Occurred", render: (entry) => <Time value={entry.occurred_at} /> },
    {
      key: "actor",
      header: "Actor",
      render: (entry) => (
        <Code fz="xs" style={{ overflowWrap: "anywhere" }}>
          {redactText(entry.actor)}
        </Code>
      ),
    },
    {
      key: "target",
      header: "Target",
      hideOnPhone: true,
      render: (entry) =>
        entry.target ? (
          <Text size="xs" ff="monospace" style={{ overflowWrap: "anywhere" }}>
            {redactText(entry.target)}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            —
          </Text>
        ),
    },
    {
      key: "outcome",
      header: "Outcome",
      render: (entry) => (
        <Badge color={OUTCOME_COLOR[entry.outcome] ?? "gray"} variant="light" size="sm">
          {entry.outcome}
        </Badge>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every sign-in, change and discovery event, in an append-only log whose integrity anyone can check."
        actions={<ExportMenu search={search} />}
      />
      <IntegrityPanel />
      <SearchForm search={search} onSearch={(next) => navigate({ search: auditSearchParams(next).toString() })} />
      <DataTable
        caption="Audit entries"
        columns={columns}
        rows={rows}
        rowKey={(entry) => String(entry.seq)}
        loading={entries.isPending}
        error={entries.error}
        onRetry={() => void entries.refetch()}
        hasMore={entries.hasNextPage}
        loadingMore={entries.isFetchingNextPage}
        onLoadMore={() => void entries.fetchNextPage()}
        minWidth={820}
        empty={
          <EmptyState
            icon={<IconScale size={22} stroke={1.6} />}
            title={searching ? "No entry matches this search" : "The log is empty"}
            description={
              searching
                ? "Actor, action and target must match exactly; widen the time range or reset the search."
                : "Entries appear as soon as anything happens: a sign-in, a change, a discovery run."
            }
          />
        }
      />
      <EntryDrawer entry={selected} onClose={() => setSelected(null)} />
    </>
  );
}
