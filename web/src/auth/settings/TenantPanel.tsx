import { useEffect, useState, type FormEvent } from "react";
import {
  ActionIcon,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
  VisuallyHidden,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAdjustments, IconEraser, IconPencil, IconPlus } from "@tabler/icons-react";

import { errorMessage, fieldMessages } from "../../api/problem";
import { hasRole } from "../roles";
import { useMe } from "../useMe";
import { useTenant, useUpdateTenant } from "../useTenant";
import { DataTable, type Column } from "../../ui/DataTable";
import { EmptyState, ErrorState, LoadingState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { SettingFormModal } from "./SettingFormModal";
import { displaySetting, settingType } from "./tenantSettings";

interface SettingRow {
  key: string;
  value: unknown;
}

function TenantName({ name, editable }: { name: string; editable: boolean }) {
  const rename = useUpdateTenant();
  const [value, setValue] = useState(name);
  useEffect(() => setValue(name), [name]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate(
      { name: value.trim() },
      { onSuccess: () => notifications.show({ color: "teal", title: "Saved", message: "The tenant was renamed." }) },
    );
  };
  const fields = fieldMessages(rename.error);
  return (
    <form onSubmit={submit} aria-label="Tenant name">
      <Group align="flex-end" gap="xs" wrap="nowrap">
        <TextInput
          label="Name"
          value={value}
          onChange={(event) => setValue(event.currentTarget.value)}
          readOnly={!editable}
          maxLength={100}
          style={{ flex: 1 }}
          error={fields.name ?? (rename.isError ? errorMessage(rename.error) : undefined)}
        />
        {editable && (
          <Button
            type="submit"
            variant="default"
            loading={rename.isPending}
            disabled={!value.trim() || value.trim() === name}
          >
            Rename
          </Button>
        )}
      </Group>
    </form>
  );
}

export default function TenantPanel() {
  const me = useMe();
  const tenant = useTenant();
  const clear = useUpdateTenant();
  const [editing, setEditing] = useState<SettingRow | null>(null);
  const [formOpen, setFormOpen] = useState(false);
  const isAdmin = hasRole(me.data?.roles, "admin");

  if (tenant.isPending) return <LoadingState />;
  if (tenant.isError) return <ErrorState error={tenant.error} onRetry={() => void tenant.refetch()} />;

  const rows: SettingRow[] = Object.entries(tenant.data.settings)
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => a.key.localeCompare(b.key));

  const openForm = (row: SettingRow | null) => {
    setEditing(row);
    setFormOpen(true);
  };

  const columns: Column<SettingRow>[] = [
    { key: "key", header: "Key", render: (row) => <Code>{row.key}</Code> },
    {
      key: "value",
      header: "Value",
      render: (row) =>
        settingType(row.value) === "unset" ? (
          <Text size="sm" c="dimmed" fs="italic">
            unset
          </Text>
        ) : (
          <Text size="sm" style={{ wordBreak: "break-word" }}>
            {displaySetting(row.value)}
          </Text>
        ),
    },
    {
      key: "type",
      header: "Type",
      hideOnPhone: true,
      render: (row) => (
        <Badge size="sm" variant="light" color="gray">
          {settingType(row.value)}
        </Badge>
      ),
    },
    ...(isAdmin
      ? [
          {
            key: "actions",
            header: <VisuallyHidden>Actions</VisuallyHidden>,
            align: "right" as const,
            render: (row: SettingRow) => (
              <Group gap={4} justify="flex-end" wrap="nowrap">
                <Tooltip label="Edit">
                  <ActionIcon
                    variant="subtle"
                    color="gray"
                    aria-label={`Edit ${row.key}`}
                    onClick={() => openForm(row)}
                  >
                    <IconPencil size={16} />
                  </ActionIcon>
                </Tooltip>
                <Tooltip label="Unset">
                  <ActionIcon
                    variant="subtle"
                    color="gray"
                    aria-label={`Unset ${row.key}`}
                    disabled={row.value === null}
                    onClick={() => clear.mutate({ settings: { [row.key]: null } })}
                  >
                    <IconEraser size={16} />
                  </ActionIcon>
                </Tooltip>
              </Group>
            ),
          },
        ]
      : []),
  ];

  return (
    <Stack gap="lg">
      <Paper withBorder p="md">
        <Title order={2} fz="md" mb="sm">
          Tenant
        </Title>
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
          <TenantName name={tenant.data.name} editable={isAdmin} />
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Tenant id
            </Text>
            <Code fz="sm">{tenant.data.id}</Code>
            <Text size="xs" c="dimmed">
              Created <Time value={tenant.data.created_at} />
            </Text>
          </Stack>
        </SimpleGrid>
      </Paper>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Stack gap={2}>
            <Title order={2} fz="md">
              Settings
            </Title>
            <Text size="sm" c="dimmed">
              {isAdmin
                ? "Tenant-wide options read by Nexora's services."
                : "Tenant-wide options (only admins can change them)."}
            </Text>
          </Stack>
          {isAdmin && (
            <Button variant="default" leftSection={<IconPlus size={16} />} onClick={() => openForm(null)}>
              Add setting
            </Button>
          )}
        </Group>
        {clear.isError && <ErrorState error={clear.error} title="Not saved" />}
        <DataTable
          caption="Tenant settings"
          columns={columns}
          rows={rows}
          rowKey={(row) => row.key}
          minWidth={420}
          empty={
            <EmptyState
              icon={<IconAdjustments size={22} stroke={1.6} />}
              title="No settings"
              description={isAdmin ? "Add a setting to change how Nexora behaves for this tenant." : undefined}
            />
          }
        />
      </Stack>
      <SettingFormModal
        opened={formOpen}
        existing={editing}
        onClose={() => setFormOpen(false)}
        onSaved={(key) => {
          setFormOpen(false);
          notifications.show({ color: "teal", title: "Saved", message: `Setting ${key} was saved.` });
        }}
      />
    </Stack>
  );
}
