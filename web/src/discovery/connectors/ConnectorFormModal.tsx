import { useEffect, useState, type FormEvent } from "react";
import {
  Alert,
  Divider,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { IconLock } from "@tabler/icons-react";

import { ApiError, errorMessage } from "../../api/problem";
import {
  CONNECTOR_KINDS,
  connectorSettings,
  initialValues,
  INTERVALS,
  kindSpec,
  validateConnector,
  visibleFields,
  type FieldSpec,
  type FormValues,
} from "../connectorKinds";
import { useCreateConnector, type Connector, type ConnectorCreate } from "../useConnectors";
import { FormActions } from "../../ui/FormActions";

function Field({
  field,
  value,
  error,
  onChange,
}: {
  field: FieldSpec;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const common = {
    label: field.label,
    description: field.description,
    placeholder: field.placeholder,
    required: field.required,
    error,
  };
  const text = typeof value === "string" ? value : "";
  switch (field.type) {
    case "switch":
      return (
        <Switch
          label={field.label}
          description={field.description}
          checked={value === true}
          onChange={(event) => onChange(event.currentTarget.checked)}
        />
      );
    case "select":
      return (
        <Select
          {...common}
          data={field.options ?? []}
          value={text}
          onChange={(next) => onChange(next ?? "")}
          allowDeselect={false}
        />
      );
    case "secret":
      return (
        <PasswordInput
          {...common}
          value={text}
          autoComplete="off"
          data-secret={text ? "true" : undefined}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      );
    case "multiline-secret":
      return (
        <Textarea
          {...common}
          value={text}
          autosize
          minRows={3}
          maxRows={8}
          spellCheck={false}
          autoComplete="off"
          data-secret={text ? "true" : undefined}
          styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 12 } }}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      );
    case "lines":
      return (
        <Textarea
          {...common}
          value={text}
          autosize
          minRows={2}
          maxRows={8}
          spellCheck={false}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      );
    case "number":
      return (
        <NumberInput
          {...common}
          value={text}
          min={field.min}
          max={field.max}
          allowDecimal={false}
          allowNegative={false}
          onChange={(next) => onChange(next === "" ? "" : String(next))}
        />
      );
    default:
      return (
        <TextInput
          {...common}
          type={field.type === "url" ? "url" : "text"}
          value={text}
          spellCheck={false}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      );
  }
}

/**
 * Add a connector: choose a provider, fill its form. Every field is checked in the browser first (named next
 * to the field, nothing sent); what the server still refuses is shown from its problem detail. Credentials
 * are sent once, stored encrypted and never shown again; closing the dialog forgets them.
 */
export function ConnectorFormModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (connector: Connector) => void;
}) {
  const create = useCreateConnector();
  const [kind, setKind] = useState("aws");
  const [name, setName] = useState("");
  const [interval, setInterval] = useState("");
  const [values, setValues] = useState<FormValues>(() => initialValues(CONNECTOR_KINDS[0]!));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const spec = kindSpec(kind) ?? CONNECTOR_KINDS[0]!;

  useEffect(() => {
    if (opened) return;
    // Forget everything typed, credentials included, once the dialog is closed.
    setKind("aws");
    setName("");
    setInterval("");
    setValues(initialValues(CONNECTOR_KINDS[0]!));
    setProblems({});
    create.reset();
  }, [opened]);

  const chooseKind = (next: string | null) => {
    const nextSpec = kindSpec(next ?? "");
    if (!nextSpec) return;
    setKind(nextSpec.kind);
    setValues(initialValues(nextSpec));
    setProblems({});
    create.reset();
  };

  const set = (field: string, value: string | boolean) => {
    setValues((current) => ({ ...current, [field]: value }));
    if (problems[field]) setProblems(({ [field]: _fixed, ...rest }) => rest);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateConnector(spec, name, values);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const { config, credentials } = connectorSettings(spec, values);
    const body: ConnectorCreate = {
      name: name.trim(),
      kind: spec.kind as ConnectorCreate["kind"],
      config,
      credentials,
      interval_seconds: interval ? Number(interval) : null,
      enabled: true,
    };
    create.mutate(body, { onSuccess: onCreated });
  };

  const conflict = create.error instanceof ApiError && create.error.status === 409;
  const fields = visibleFields(spec, values);
  const settings = fields.filter((field) => field.section === "config");
  const credentials = fields.filter((field) => field.section === "credentials");

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={600}>Add connector</Text>} size="lg" centered>
      <form onSubmit={submit} noValidate aria-label="Add connector">
        <Stack gap="md">
          <Select
            label="Provider"
            data={CONNECTOR_KINDS.map((item) => ({ value: item.kind, label: item.label }))}
            value={kind}
            onChange={chooseKind}
            allowDeselect={false}
            description={spec.description}
            data-autofocus
          />
          <Group grow align="flex-start">
            <TextInput
              label="Name"
              required
              placeholder="e.g. aws-prod"
              maxLength={100}
              value={name}
              onChange={(event) => {
                setName(event.currentTarget.value);
                if (problems.name) setProblems(({ name: _fixed, ...rest }) => rest);
              }}
              error={problems.name ?? (conflict ? errorMessage(create.error) : undefined)}
            />
            <Select
              label="Runs"
              data={INTERVALS}
              value={interval}
              onChange={(value) => setInterval(value ?? "")}
              allowDeselect={false}
            />
          </Group>
          {settings.length > 0 && <Divider label="Settings" labelPosition="left" />}
          {settings.map((field) => (
            <Field
              key={field.name}
              field={field}
              value={values[field.name]}
              error={problems[field.name]}
              onChange={(value) => set(field.name, value)}
            />
          ))}
          {credentials.length > 0 && (
            <Divider
              label={
                <Group gap={4}>
                  <IconLock size={12} />
                  Credentials (stored encrypted, never shown again)
                </Group>
              }
              labelPosition="left"
            />
          )}
          {credentials.map((field) => (
            <Field
              key={field.name}
              field={field}
              value={values[field.name]}
              error={problems[field.name]}
              onChange={(value) => set(field.name, value)}
            />
          ))}
          {Object.keys(problems).length > 0 && (
            <Text size="sm" c="red" role="alert">
              Fix the highlighted fields; nothing was sent.
            </Text>
          )}
          {create.isError && !conflict && (
            <Alert color="red" variant="light" title="The connector was not added" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <FormActions submitLabel="Add connector" onCancel={onClose} pending={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
