import { useEffect, useState, type FormEvent } from "react";
import { Modal, SegmentedControl, Select, Stack, Text, TextInput } from "@mantine/core";

import { errorMessage } from "../../api/problem";
import { useUpdateTenant } from "../useTenant";
import { parseSetting, SETTING_KEY_PATTERN, settingType, type SettingType } from "./tenantSettings";
import { FormActions } from "../../ui/FormActions";

const TYPES: { value: SettingType; label: string }[] = [
  { value: "string", label: "Text" },
  { value: "integer", label: "Number" },
  { value: "boolean", label: "Yes / no" },
];

/** Add a tenant setting or change one (`existing` names it). */
export function SettingFormModal({
  opened,
  existing,
  onClose,
  onSaved,
}: {
  opened: boolean;
  existing: { key: string; value: unknown } | null;
  onClose: () => void;
  onSaved: (key: string) => void;
}) {
  const update = useUpdateTenant();
  const [key, setKey] = useState("");
  const [type, setType] = useState<SettingType>("string");
  const [raw, setRaw] = useState("");
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (!opened) return;
    const kind = settingType(existing?.value);
    setKey(existing?.key ?? "");
    setType(kind === "integer" || kind === "boolean" ? kind : "string");
    setRaw(existing && existing.value !== null && existing.value !== undefined ? String(existing.value) : "");
    setTouched(false);
    update.reset();
    // Reset only when the dialog opens.
  }, [opened, existing]);

  const parsed = parseSetting(type, type === "boolean" && !raw ? "false" : raw);
  const keyError =
    touched && !SETTING_KEY_PATTERN.test(key)
      ? "Start with a letter; letters, digits, _ . - only (64 at most)."
      : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!SETTING_KEY_PATTERN.test(key) || "error" in parsed) return;
    update.mutate({ settings: { [key]: parsed.value } }, { onSuccess: () => onSaved(key) });
  };

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={600}>{existing ? `Edit ${existing.key}` : "Add setting"}</Text>}
      centered
    >
      <form onSubmit={submit} noValidate aria-label={existing ? "Edit setting" : "Add setting"}>
        <Stack gap="md">
          <TextInput
            label="Key"
            required
            disabled={existing !== null}
            value={key}
            onChange={(event) => setKey(event.currentTarget.value)}
            onBlur={() => setTouched(true)}
            error={keyError}
            maxLength={64}
            data-autofocus
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="setting-type-label">
              Type
            </Text>
            <SegmentedControl
              data={TYPES}
              value={type}
              onChange={(value) => {
                setType(value as SettingType);
                setRaw(value === "boolean" ? "false" : "");
              }}
              aria-labelledby="setting-type-label"
            />
          </Stack>
          {type === "boolean" ? (
            <Select
              label="Value"
              data={["true", "false"]}
              value={raw || "false"}
              onChange={(value) => setRaw(value ?? "false")}
              allowDeselect={false}
            />
          ) : (
            <TextInput
              label="Value"
              value={raw}
              inputMode={type === "integer" ? "numeric" : undefined}
              onChange={(event) => setRaw(event.currentTarget.value)}
              error={touched && "error" in parsed ? parsed.error : undefined}
            />
          )}
          {update.isError && (
            <Text size="sm" c="red" role="alert">
              {errorMessage(update.error)}
            </Text>
          )}
          <FormActions submitLabel="Save" onCancel={onClose} pending={update.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
