import { useEffect, useState, type FormEvent } from "react";
import { Modal, PasswordInput, Stack, Switch, Text, TextInput } from "@mantine/core";

import { fieldMessages } from "../../api/problem";
import type { Role } from "../roles";
import { useCreateUser, useUpdateUser, type User } from "../useUsers";
import { ErrorState } from "../../ui/states";
import { RolePicker } from "./RolePicker";
import { FormActions } from "../../ui/FormActions";

/** Add a user (no `user`) or change one's roles, status and password. */
export function UserFormModal({
  opened,
  user,
  onClose,
  onSaved,
}: {
  opened: boolean;
  user: User | null;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const create = useCreateUser();
  const update = useUpdateUser();
  const mutation = user ? update : create;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<Role[]>(["viewer"]);
  const [active, setActive] = useState(true);

  useEffect(() => {
    if (!opened) return;
    setEmail(user?.email ?? "");
    setPassword("");
    setRoles((user?.roles as Role[] | undefined) ?? ["viewer"]);
    setActive(user?.is_active ?? true);
    create.reset();
    update.reset();
    // Reset only when the dialog opens for a (new) user.
  }, [opened, user]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (user) {
      update.mutate(
        { id: user.id, roles, is_active: active, ...(password ? { password } : {}) },
        { onSuccess: (saved) => onSaved(`${saved.email} was updated.`) },
      );
    } else {
      create.mutate(
        { email: email.trim(), password, roles },
        { onSuccess: (saved) => onSaved(`${saved.email} can now sign in.`) },
      );
    }
  };

  const fields = fieldMessages(mutation.error);
  const generalError = mutation.isError && Object.keys(fields).length === 0;

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={600}>{user ? `Edit ${user.email}` : "Add user"}</Text>}
      size="lg"
      centered
    >
      <form onSubmit={submit} noValidate aria-label={user ? "Edit user" : "Add user"}>
        <Stack gap="md">
          {!user && (
            <TextInput
              label="E-mail"
              type="email"
              required
              maxLength={254}
              autoComplete="off"
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
              error={fields.email}
              data-autofocus
            />
          )}
          <PasswordInput
            label={user ? "New password" : "Initial password"}
            description={
              user
                ? "Leave empty to keep the current password. Changing it signs the user out everywhere."
                : "Share it over a secure channel. The server enforces its minimum length."
            }
            required={!user}
            autoComplete="new-password"
            maxLength={1024}
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            error={fields.password}
          />
          <RolePicker value={roles} onChange={setRoles} error={fields.roles} />
          {user && (
            <Switch
              label="Active"
              description="Inactive users cannot sign in; their sessions end at once."
              checked={active}
              onChange={(event) => setActive(event.currentTarget.checked)}
            />
          )}
          {mutation.isError &&
            (generalError ? (
              <ErrorState error={mutation.error} title="Not saved" />
            ) : (
              <Text size="sm" c="red" role="alert">
                Check the highlighted fields.
              </Text>
            ))}
          <FormActions
            submitLabel={user ? "Save changes" : "Add user"}
            onCancel={onClose}
            pending={mutation.isPending}
            disabled={roles.length === 0 || (!user && (!email.trim() || !password))}
          />
        </Stack>
      </form>
    </Modal>
  );
}
