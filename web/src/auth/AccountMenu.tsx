import { Avatar, Badge, Group, Menu, Text, UnstyledButton } from "@mantine/core";
import { IconChevronDown, IconKey, IconLogout } from "@tabler/icons-react";
import { Link } from "react-router";

import { useSession } from "../api/ApiProvider";
import { useMe } from "./useMe";

function initials(email: string): string {
  const name = email.split("@")[0] ?? "";
  const parts = name.split(/[._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "") + (parts[1]?.[0] ?? "")).toUpperCase() || "?";
}

/** The signed-in user: who they are, their roles, their keys, and sign-out. */
export function AccountMenu() {
  const session = useSession();
  const me = useMe();
  const email = me.data?.email ?? "";
  return (
    <Menu position="bottom-end" width={260} shadow="md">
      <Menu.Target>
        <UnstyledButton aria-label={email ? `Account: ${email}` : "Account"} px={4} py={2}>
          <Group gap={8} wrap="nowrap">
            <Avatar size={30} radius="xl" color="nexora">
              {email ? initials(email) : ""}
            </Avatar>
            <Text size="sm" fw={500} visibleFrom="md" maw={200} truncate="end">
              {email}
            </Text>
            <IconChevronDown size={14} stroke={1.6} />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as</Menu.Label>
        <Text size="sm" px="sm" fw={500} truncate="end">
          {email || "…"}
        </Text>
        <Group gap={4} px="sm" py={6}>
          {(me.data?.roles ?? []).map((role) => (
            <Badge key={role} size="xs" variant="light">
              {role}
            </Badge>
          ))}
        </Group>
        <Menu.Divider />
        <Menu.Item component={Link} to="/settings/api-keys" leftSection={<IconKey size={16} stroke={1.6} />}>
          API keys
        </Menu.Item>
        <Menu.Item leftSection={<IconLogout size={16} stroke={1.6} />} onClick={() => void session.signOut()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
