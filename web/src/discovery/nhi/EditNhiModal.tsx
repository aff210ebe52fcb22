import { useEffect, useState, type FormEvent } from "react";
import { Modal, Select, Stack, Text, TextInput } from "@mantine/core";

import { errorMessage, fieldMessages } from "../../api/problem";
import { ENVIRONMENTS, environmentLabel } from "../labels";
import { useUpdateNhi, type NhiChanges, type NhiDetail } from "../useNhis";
import { FormActions } from "../../ui/FormActions";

const DISCOVERED = "discovered";

/** The PATCH body for what changed: an empty owner or "as discovered" clears that override (null). */
export function nhiChanges(
  detail: NhiDetail,
  owner: string,
  environment: string,
): { changes: NhiChanges; count: number } {
  const changes: NhiChanges = {};
  const wantedOwner = owner.trim();
  const ownerOverridden = detail.owner_source === "override";
  if (wantedOwner && wantedOwner !== (detail.owner ?? "")) changes.owner = wantedOwner;
  else if (!wantedOwner && ownerOverridden) changes.owner = null;
  if (environment === DISCOVERED) {
    if (detail.environment_overridden) changes.environment = null;
  } else if (environment !== detail.environment || !detail.environment_overridden) {
    changes.environment = environment as NhiChanges["environment"];
  }
  return { changes, count: Object.keys(changes).length };
}

/** Set who owns an identity and which environment it belongs to (analysts and admins). */
export function EditNhiModal({ detail, opened, onClose }: { detail: NhiDetail; opened: boolean; onClose: () => void }) {
  const update = useUpdateNhi(detail.id);
  const [owner, setOwner] = useState("");
  const [environment, setEnvironment] = useState(DISCOVERED);

  useEffect(() => {
    if (!opened) return;
    setOwner(detail.owner_source === "override" ? (detail.owner ?? "") : "");
    setEnvironment(detail.environment_overridden ? detail.environment : DISCOVERED);
    update.reset();
    // Reset when the dialog opens.
  }, [opened]);

  const { changes, count } = nhiChanges(detail, owner, environment);
  const fields = fieldMessages(update.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (count === 0) return onClose();
    update.mutate(changes, { onSuccess: onClose });
  };

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={600}>Owner and environment</Text>} centered>
      <form onSubmit={submit} noValidate aria-label="Owner and environment">
        <Stack gap="md">
          <TextInput
            label="Owner"
            description={
              detail.owner_source && detail.owner_source !== "override"
                ? `Discovered: ${detail.owner ?? "none"} (from ${detail.owner_source}). Leave empty to keep it.`
                : "A team or person accountable for this identity. Leave empty to use what discovery finds."
            }
            placeholder={detail.owner_source !== "override" ? (detail.owner ?? "e.g. payments") : undefined}
            maxLength={200}
            value={owner}
            onChange={(event) => setOwner(event.currentTarget.value)}
            error={fields.owner}
            data-autofocus
          />
          <Select
            label="Environment"
            description="Overrides survive later discovery runs; findings are re-evaluated at once."
            data={[
              { value: DISCOVERED, label: "As discovered" },
              ...ENVIRONMENTS.map((value) => ({ value, label: environmentLabel(value) })),
            ]}
            value={environment}
            onChange={(value) => setEnvironment(value ?? DISCOVERED)}
            allowDeselect={false}
            error={fields.environment}
          />
          {update.isError && (
            <Text size="sm" c="red" role="alert">
              {errorMessage(update.error)}
            </Text>
          )}
          <FormActions submitLabel="Save" onCancel={onClose} pending={update.isPending} disabled={count === 0} />
        </Stack>
      </form>
    </Modal>
  );
}
