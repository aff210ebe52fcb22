import { Checkbox, Stack } from "@mantine/core";

import { ROLES, type Role } from "../roles";

export function RolePicker({
  value,
  onChange,
  error,
}: {
  value: Role[];
  onChange: (roles: Role[]) => void;
  error?: string | undefined;
}) {
  return (
    <Checkbox.Group
      label="Roles"
      description="Admins can do everything; combine the others as needed."
      value={value}
      onChange={(next) => onChange(next as Role[])}
      error={error}
      required
    >
      <Stack gap={6} mt={6}>
        {ROLES.map((role) => (
          <Checkbox key={role.value} value={role.value} label={role.label} description={role.description} />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}
