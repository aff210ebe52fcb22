import { useState, type FormEvent } from "react";
import { Alert, Button, Checkbox, Group, Modal, SegmentedControl, Stack, Text, TextInput } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";

import { errorMessage, fieldMessages } from "../../api/problem";
import { hasRole, SCOPES, type Scope } from "../roles";
import { useCreateApiKey } from "../useApiKeys";
import { SecretReveal } from "../../ui/SecretReveal";
import { ErrorState } from "../../ui/states";
import { FormActions } from "../../ui/FormActions";

const EXPIRY = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
];

/**
 * Create an API key. On success the dialog shows the key once with a copy button; closing the dialog
 * resets the mutation, which drops the key from memory.
 */
export function CreateApiKeyModal({
  opened,
  onClose,
  roles,
}: {
  opened: boolean;
  onClose: () => void;
  roles: string[];
}) {
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["read"]);
  const [expiry, setExpiry] = useState("90");

  const close = () => {
    create.reset();
    setName("");
    setScopes(["read"]);
    setExpiry("90");
    onClose();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), scopes, expires_in_days: expiry === "never" ? null : Number(expiry) });
  };

  const fields = fieldMessages(create.error);
  const created = create.data;

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={<Text fw={600}>{created ? "API key created" : "Create API key"}</Text>}
      size="lg"
      centered
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack gap="md">
          <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} title="Copy this key now">
            Nexora keeps only a hash of it: this is the only time the key <strong>{created.name}</strong> is shown.
            Store it in your secret manager.
          </Alert>
          <SecretReveal value={created.key} label="New API key" />
          <Group justify="flex-end">
            <Button onClick={close}>I have stored the key</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Create API key">
          <Stack gap="md">
            <TextInput
              label="Name"
              description="What uses this key, e.g. 'ci-deploy' or 'siem-export'."
              required
              maxLength={100}
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
              error={fields.name}
              data-autofocus
            />
            <Checkbox.Group
              label="Scopes"
              description="What the key may do. Role scopes need that role yourself."
              value={scopes}
              onChange={(value) => setScopes(value as Scope[])}
              error={fields.scopes}
              required
            >
              <Stack gap={6} mt={6}>
                {SCOPES.map((scope) => (
                  <Checkbox
                    key={scope.value}
                    value={scope.value}
                    label={scope.label}
                    disabled={scope.value !== "read" && !hasRole(roles, scope.value as Exclude<Scope, "read">)}
                  />
                ))}
              </Stack>
            </Checkbox.Group>
            <Stack gap={4}>
              <Text size="sm" fw={500} id="expiry-label">
                Expires after
              </Text>
              <SegmentedControl data={EXPIRY} value={expiry} onChange={setExpiry} aria-labelledby="expiry-label" />
            </Stack>
            {create.isError && Object.keys(fields).length === 0 && (
              <ErrorState error={create.error} title="The key was not created" />
            )}
            {create.isError && Object.keys(fields).length > 0 && (
              <Text size="sm" c="red" role="alert">
                {errorMessage(create.error)}
              </Text>
            )}
            <FormActions
              submitLabel="Create key"
              onCancel={close}
              pending={create.isPending}
              disabled={!name.trim() || scopes.length === 0}
            />
          </Stack>
        </form>
      )}
    </Modal>
  );
}
