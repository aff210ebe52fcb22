import { useState } from "react";
import { Badge, Button, Group, Stack, Text, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconKey, IconPlus } from "@tabler/icons-react";

import { hasRole } from "../roles";
import { useApiKeys, useRevokeApiKey, type ApiKey } from "../useApiKeys";
import { useMe } from "../useMe";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { DataTable, type Column } from "../../ui/DataTable";
import { EmptyState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { apiKeyStatus, STATUS_COLOR } from "./apiKeyStatus";
import { CreateApiKeyModal } from "./CreateApiKeyModal";
import { ScopeBadges } from "./ScopeBadges";

export default function ApiKeysPanel() {
  const me = useMe();
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const roles = me.data?.roles ?? [];
  const isAdmin = hasRole(roles, "admin");

  const closeRevoke = () => {
    revoke.reset();
    setRevoking(null);
  };
  const confirmRevoke = () => {
    if (!revoking) return;
    const name = revoking.name;
    revoke.mutate(revoking.id, {
      onSuccess: () => {
        closeRevoke();
        notifications.show({ color: "teal", title: "API key revoked", message: `'${name}' stops working now.` });
      },
    });
  };

  const columns: Column<ApiKey>[] = [
    {
      key: "name",
      header: "Name",
      render: (key) => (
        <Stack gap={0}>
          <Text size="sm" fw={500}>
            {key.name}
          </Text>
          <Text size="xs" c="dimmed" ff="monospace">
            {key.prefix}…
          </Text>
        </Stack>
      ),
    },
    { key: "scopes", header: "Scopes", render: (key) => <ScopeBadges values={key.scopes} /> },
    {
      key: "status",
      header: "Status",
      render: (key) => {
        const status = apiKeyStatus(key);
        return (
          <Badge color={STATUS_COLOR[status]} variant="dot" size="sm">
            {status}
          </Badge>
        );
      },
    },
    ...(isAdmin
      ? [
          {
            key: "owner",
            header: "Created by",
            hideOnPhone: true,
            render: (key: ApiKey) =>
              key.created_by === me.data?.id ? (
                <Text size="sm">you</Text>
              ) : (
                <Text size="xs" ff="monospace" c="dimmed" title={key.created_by}>
                  {key.created_by.slice(0, 8)}
                </Text>
              ),
          },
        ]
      : []),
    { key: "created", header: "Created", hideOnPhone: true, render: (key) => <Time value={key.created_at} /> },
    { key: "expires", header: "Expires", render: (key) => <Time value={key.expires_at} empty="never" /> },
    {
      key: "used",
      header: "Last used",
      hideOnPhone: true,
      render: (key) => <Time value={key.last_used_at} empty="never" />,
    },
    {
      key: "actions",
      header: <VisuallyHidden>Actions</VisuallyHidden>,
      align: "right",
      render: (key) =>
        apiKeyStatus(key) === "active" ? (
          <Button
            size="compact-xs"
            variant="subtle"
            color="red"
            onClick={() => setRevoking(key)}
            aria-label={`Revoke ${key.name}`}
          >
            Revoke
          </Button>
        ) : null,
    },
  ];

  const rows = keys.data?.pages.flatMap((page) => page.items);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <Text size="sm" c="dimmed" maw={620}>
          {isAdmin
            ? "Every API key of the tenant. Keys authenticate scripts and CI jobs; Nexora stores only their hash."
            : "Your API keys. Keys authenticate scripts and CI jobs; Nexora stores only their hash."}
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
          Create API key
        </Button>
      </Group>
      <DataTable
        caption="API keys"
        columns={columns}
        rows={rows}
        rowKey={(key) => key.id}
        loading={keys.isPending}
        error={keys.error}
        onRetry={() => void keys.refetch()}
        hasMore={keys.hasNextPage}
        loadingMore={keys.isFetchingNextPage}
        onLoadMore={() => void keys.fetchNextPage()}
        empty={
          <EmptyState
            icon={<IconKey size={22} stroke={1.6} />}
            title="No API keys yet"
            description="Create a key for each script or pipeline that calls the Nexora API, so you can revoke one without breaking the others."
          />
        }
      />
      <CreateApiKeyModal opened={creating} onClose={() => setCreating(false)} roles={roles} />
      <ConfirmDialog
        opened={revoking !== null}
        title="Revoke API key"
        confirmLabel="Revoke key"
        onConfirm={confirmRevoke}
        onClose={closeRevoke}
        pending={revoke.isPending}
        error={revoke.error}
      >
        Revoke <strong>{revoking?.name}</strong> ({revoking?.prefix}…)? Anything using it stops working immediately.
        This cannot be undone.
      </ConfirmDialog>
    </Stack>
  );
}
