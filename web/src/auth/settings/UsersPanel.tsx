import { useState } from "react";
import { ActionIcon, Badge, Button, Group, Menu, Stack, Text, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDots, IconPencil, IconPlus, IconTrash, IconUsers } from "@tabler/icons-react";

import { useMe } from "../useMe";
import { useDeleteUser, useUsers, type User } from "../useUsers";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { DataTable, type Column } from "../../ui/DataTable";
import { EmptyState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { ScopeBadges } from "./ScopeBadges";
import { UserFormModal } from "./UserFormModal";

export default function UsersPanel() {
  const me = useMe();
  const users = useUsers();
  const remove = useDeleteUser();
  const [editing, setEditing] = useState<User | null>(null);
  const [formOpen, setFormOpen] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);

  const openForm = (user: User | null) => {
    setEditing(user);
    setFormOpen(true);
  };
  const saved = (message: string) => {
    setFormOpen(false);
    notifications.show({ color: "teal", title: "Saved", message });
  };
  const closeDelete = () => {
    remove.reset();
    setDeleting(null);
  };
  const confirmDelete = () => {
    if (!deleting) return;
    const email = deleting.email;
    remove.mutate(deleting.id, {
      onSuccess: () => {
        closeDelete();
        notifications.show({ color: "teal", title: "User deleted", message: `${email} can no longer sign in.` });
      },
    });
  };

  const columns: Column<User>[] = [
    {
      key: "email",
      header: "User",
      render: (user) => (
        <Group gap={6} wrap="nowrap">
          <Text size="sm" fw={500}>
            {user.email}
          </Text>
          {user.id === me.data?.id && (
            <Badge size="xs" variant="outline" color="gray">
              you
            </Badge>
          )}
          {user.is_platform_admin && (
            <Badge size="xs" variant="outline" color="orange">
              platform
            </Badge>
          )}
        </Group>
      ),
    },
    { key: "roles", header: "Roles", render: (user) => <ScopeBadges values={user.roles} /> },
    {
      key: "status",
      header: "Status",
      render: (user) => (
        <Badge variant="dot" size="sm" color={user.is_active ? "teal" : "gray"}>
          {user.is_active ? "active" : "disabled"}
        </Badge>
      ),
    },
    { key: "login", header: "Last sign-in", render: (user) => <Time value={user.last_login_at} empty="never" /> },
    { key: "created", header: "Added", hideOnPhone: true, render: (user) => <Time value={user.created_at} /> },
    {
      key: "actions",
      header: <VisuallyHidden>Actions</VisuallyHidden>,
      align: "right",
      render: (user) => (
        <Menu position="bottom-end" withinPortal>
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${user.email}`}>
              <IconDots size={16} />
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item leftSection={<IconPencil size={14} />} onClick={() => openForm(user)}>
              Edit roles and status
            </Menu.Item>
            <Menu.Item
              leftSection={<IconTrash size={14} />}
              color="red"
              disabled={user.id === me.data?.id}
              onClick={() => setDeleting(user)}
            >
              Delete user
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      ),
    },
  ];

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <Text size="sm" c="dimmed" maw={620}>
          People who can sign in to this tenant and what their roles let them do.
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => openForm(null)}>
          Add user
        </Button>
      </Group>
      <DataTable
        caption="Users"
        columns={columns}
        rows={users.data?.pages.flatMap((page) => page.items)}
        rowKey={(user) => user.id}
        loading={users.isPending}
        error={users.error}
        onRetry={() => void users.refetch()}
        hasMore={users.hasNextPage}
        loadingMore={users.isFetchingNextPage}
        onLoadMore={() => void users.fetchNextPage()}
        empty={<EmptyState icon={<IconUsers size={22} stroke={1.6} />} title="No users" />}
      />
      <UserFormModal opened={formOpen} user={editing} onClose={() => setFormOpen(false)} onSaved={saved} />
      <ConfirmDialog
        opened={deleting !== null}
        title="Delete user"
        confirmLabel="Delete user"
        onConfirm={confirmDelete}
        onClose={closeDelete}
        pending={remove.isPending}
        error={remove.error}
      >
        Delete <strong>{deleting?.email}</strong>? Their sessions and API keys stop working immediately.
      </ConfirmDialog>
    </Stack>
  );
}
