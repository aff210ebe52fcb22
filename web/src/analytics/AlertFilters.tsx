import { useEffect, useState, type FormEvent } from "react";
import { Badge, Box, Button, CloseButton, Group, NativeSelect, Paper, TextInput } from "@mantine/core";

import { useNhi } from "../discovery/useNhis";
import { MultiFilter } from "../ui/MultiFilter";
import { detectorProblem, DEFAULT_VIEW, isFiltered, type AlertsView } from "./alertsQuery";
import { ALERT_SEVERITIES, ALERT_STATUSES, statusLabel, TACTICS } from "./labels";
import { useDetectors } from "./useAlerts";

function IdentityFilter({ id, onClear }: { id: string; onClear: () => void }) {
  const nhi = useNhi(id);
  return (
    <Badge
      size="lg"
      variant="light"
      rightSection={<CloseButton size="xs" aria-label="Show alerts of every identity" onClick={onClear} />}
    >
      Identity: {nhi.data?.name ?? (nhi.isError ? "not found" : "…")}
    </Badge>
  );
}

/** The detector filter (an exact id) applies on Enter or when the field loses focus, not on every key. */
function DetectorFilter({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const detectors = useDetectors();
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const problem = detectorProblem(draft);
  const apply = () => {
    if (!problem && draft.trim() !== value) onChange(draft.trim());
  };
  return (
    <Box
      component="form"
      miw={220}
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        apply();
      }}
    >
      <TextInput
        label="Detector"
        placeholder="e.g. privesc.create_key_other_user"
        value={draft}
        maxLength={100}
        spellCheck={false}
        error={problem ?? undefined}
        onChange={(event) => setDraft(event.currentTarget.value)}
        onBlur={apply}
        list="alert-detectors"
        autoComplete="off"
      />
      {/* The catalogue as native suggestions (any phone shows them); without it the field takes any id. */}
      <datalist id="alert-detectors">
        {(detectors.data ?? []).map((detector) => (
          <option key={detector.id} value={detector.id}>
            {detector.title}
          </option>
        ))}
      </datalist>
    </Box>
  );
}

/** Status, severity, detector and ATT&CK tactic (and the identity, when one is chosen elsewhere). */
export function AlertFilters({
  view,
  onChange,
}: {
  view: AlertsView;
  onChange: (changes: Partial<AlertsView>) => void;
}) {
  return (
    <Paper withBorder p="sm" mb="md" component="section" aria-label="Filters">
      <Group gap="sm" align="flex-start" wrap="wrap">
        <Box miw={200}>
          <MultiFilter
            label="Status"
            noun="statuses"
            options={ALERT_STATUSES.map((value) => ({ value, label: statusLabel(value) }))}
            value={view.status}
            onChange={(value) => onChange({ status: value as AlertsView["status"] })}
          />
        </Box>
        <Box miw={180}>
          <MultiFilter
            label="Severity"
            noun="severities"
            options={ALERT_SEVERITIES.map((value) => ({ value, label: value }))}
            value={view.severity}
            onChange={(value) => onChange({ severity: value as AlertsView["severity"] })}
          />
        </Box>
        <DetectorFilter value={view.detector} onChange={(detector) => onChange({ detector })} />
        <NativeSelect
          label="Tactic"
          miw={220}
          data={[
            { value: "", label: "Any tactic" },
            ...TACTICS.map((tactic) => ({ value: tactic.id, label: `${tactic.id} ${tactic.name}` })),
          ]}
          value={view.tacticId ?? ""}
          onChange={(event) => onChange({ tacticId: event.currentTarget.value || null })}
        />
        {view.nhiId && <IdentityFilter id={view.nhiId} onClear={() => onChange({ nhiId: null })} />}
        {isFiltered(view) && (
          <Button
            variant="subtle"
            color="gray"
            mt={25}
            onClick={() =>
              onChange({
                status: DEFAULT_VIEW.status,
                severity: [],
                detector: "",
                tacticId: null,
                nhiId: null,
              })
            }
          >
            Reset filters
          </Button>
        )}
      </Group>
    </Paper>
  );
}
