import { useState } from "react";
import { ActionIcon, Alert, Badge, Button, Group, Menu, Modal, Stack, Text, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import {
  IconCircleCheck,
  IconCircleX,
  IconDots,
  IconHistory,
  IconPlayerPlay,
  IconPlugConnected,
  IconPlus,
  IconPlugConnectedX,
  IconToggleLeft,
  IconTrash,
} from "@tabler/icons-react";
import { useSearchParams } from "react-router";

import { errorMessage, sentence } from "../../api/problem";
import { hasRole } from "../../auth/roles";
import { useMe } from "../../auth/useMe";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { DataTable, type Column } from "../../ui/DataTable";
import { PageHeader } from "../../ui/PageHeader";
import { redactText } from "../../ui/redact";
import { EmptyState } from "../../ui/states";
import { Time } from "../../ui/Time";
import { INTERVALS, kindSpec } from "../connectorKinds";
import {
  useConnectors,
  useDeleteConnector,
  useRunConnector,
  useTestConnector,
  useUpdateConnector,
  type Connector,
} from "../useConnectors";
import { ConnectorFormModal } from "./ConnectorFormModal";
import { RunHistory, RunStatus } from "./RunHistory";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function intervalLabel(seconds: number | null): string {
  if (seconds === null) return "server default";
  return INTERVALS.find((item) => item.value === String(seconds))?.label.toLowerCase() ?? `every ${seconds} s`;
}

interface TestOutcome {
  connector: Connector;
  ok: boolean;
  message: string;
}

function TestResult({ outcome, onClose }: { outcome: TestOutcome | null; onClose: () => void }) {
  return (
    <Modal opened={outcome !== null} onClose={onClose} title={<Text fw={600}>Connection test</Text>} centered>
      {outcome && (
        <Stack gap="md">
          <Alert
            color={outcome.ok ? "teal" : "red"}
            variant="light"
            icon={outcome.ok ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
            title={
              outcome.ok ? `${outcome.connector.name} is reachable` : `${outcome.connector.name} could not connect`
            }
            role={outcome.ok ? "status" : "alert"}
          >
            {sentence(redactText(outcome.message))}
          </Alert>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Close
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** Connectors: the sources identities are discovered from. Admins add, test, run, pause and delete them. */
export default function ConnectorsPage() {
  const me = useMe();
  const connectors = useConnectors();
  const test = useTestConnector();
  const run = useRunConnector();
  const update = useUpdateConnector();
  const remove = useDeleteConnector();
  const [params, setParams] = useSearchParams();
  const [adding, setAdding] = useState(false);
  const [outcome, setOutcome] = useState<TestOutcome | null>(null);
  const [deleting, setDeleting] = useState<Connector | null>(null);
  const isAdmin = hasRole(me.data?.roles, "admin");
  const selectedParam = params.get("connector");
  const selected = selectedParam && UUID.test(selectedParam) ? selectedParam : null;
  const showRuns = (id: string | null) =>
    setParams(id ? { connector: id } : {}, { replace: true, preventScrollReset: true });
  const failed = (title: string) => (error: unknown) =>
    notifications.show({ color: "red", title, message: errorMessage(error) });

  const testConnector = (connector: Connector) =>
    test.mutate(connector.id, {
      onSuccess: (result) => setOutcome({ connector, ok: result.ok, message: result.message }),
      onError: failed(`Could not test ${connector.name}`),
    });
  const runConnector = (connector: Connector) =>
    run.mutate(connector.id, {
      onSuccess: () => {
        showRuns(connector.id);
        notifications.show({ color: "blue", title: "Run started", message: `${connector.name} is running now.` });
      },
      onError: failed(`Could not run ${connector.name}`),
    });
  const toggle = (connector: Connector) =>
    update.mutate(
      { id: connector.id, enabled: !connector.enabled },
      { onError: failed(`Could not change ${connector.name}`) },
    );
  const closeDelete = () => {
    remove.reset();
    setDeleting(null);
  };

  const columns: Column<Connector>[] = [
    {
      key: "name",
      header: "Connector",
      render: (connector) => (
        <Stack gap={0}>
          <Group gap={6}>
            <Text size="sm" fw={600}>
              {connector.name}
            </Text>
            {!connector.enabled && (
              <Badge size="xs" color="gray" variant="outline">
                paused
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed">
            {kindSpec(connector.kind)?.label ?? connector.kind}
          </Text>
        </Stack>
      ),
    },
    {
      key: "status",
      header: "Last run",
      render: (connector) =>
        connector.last_status ? (
          <Group gap={6} wrap="nowrap">
            <RunStatus status={connector.last_status} />
            <Text size="xs" c="dimmed">
              <Time value={connector.last_run_at} />
            </Text>
          </Group>
        ) : (
          <Text size="sm" c="dimmed">
            never run
          </Text>
        ),
    },
    { key: "schedule", header: "Schedule", render: (connector) => intervalLabel(connector.interval_seconds) },
    {
      key: "credentials",
      header: "Credentials",
      hideOnPhone: true,
      render: (connector) =>
        connector.has_credentials ? (
          <Badge size="sm" variant="light" color="teal">
            stored encrypted
          </Badge>
        ) : (
          <Text size="sm" c="dimmed">
            none
          </Text>
        ),
    },
    {
      key: "actions",
      header: <VisuallyHidden>Actions</VisuallyHidden>,
      align: "right",
      render: (connector) => (
        <Group gap={4} justify="flex-end" wrap="nowrap">
          {isAdmin && (
            <>
              <Button
                size="compact-xs"
                variant="default"
                leftSection={<IconPlugConnected size={14} />}
                loading={test.isPending && test.variables === connector.id}
                onClick={() => testConnector(connector)}
                aria-label={`Test ${connector.name}`}
              >
                Test
              </Button>
              <Button
                size="compact-xs"
                variant="default"
                leftSection={<IconPlayerPlay size={14} />}
                loading={run.isPending && run.variables === connector.id}
                onClick={() => runConnector(connector)}
                aria-label={`Run ${connector.name} now`}
              >
                Run now
              </Button>
            </>
          )}
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <ActionIcon variant="subtle" color="gray" aria-label={`More actions for ${connector.name}`}>
                <IconDots size={16} />
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item leftSection={<IconHistory size={16} />} onClick={() => showRuns(connector.id)}>
                Show its runs
              </Menu.Item>
              {isAdmin && (
                <>
                  <Menu.Item
                    leftSection={connector.enabled ? <IconPlugConnectedX size={16} /> : <IconToggleLeft size={16} />}
                    onClick={() => toggle(connector)}
                  >
                    {connector.enabled ? "Pause scheduled runs" : "Resume scheduled runs"}
                  </Menu.Item>
                  <Menu.Divider />
                  <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(connector)}>
                    Delete
                  </Menu.Item>
                </>
              )}
            </Menu.Dropdown>
          </Menu>
        </Group>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Connectors"
        description="The sources Nexora discovers identities from: cloud accounts, clusters, code hosts, Vault and code."
        actions={
          isAdmin ? (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
              Add connector
            </Button>
          ) : undefined
        }
      />
      <Stack gap="xl">
        <DataTable
          caption="Connectors"
          columns={columns}
          rows={connectors.data?.items}
          rowKey={(connector) => connector.id}
          loading={connectors.isPending}
          error={connectors.error}
          onRetry={() => void connectors.refetch()}
          minWidth={860}
          empty={
            <EmptyState
              icon={<IconPlugConnected size={22} stroke={1.6} />}
              title="No connectors yet"
              description={
                isAdmin
                  ? "Add one for each AWS account, cluster, GitHub organisation or Vault you want to watch."
                  : "An admin adds connectors for the accounts, clusters and repositories to watch."
              }
              action={
                isAdmin ? (
                  <Button size="xs" variant="default" onClick={() => setAdding(true)}>
                    Add connector
                  </Button>
                ) : undefined
              }
            />
          }
        />
        {connectors.data && (
          <RunHistory connectors={connectors.data.items} connectorId={selected} onConnector={showRuns} />
        )}
      </Stack>
      <ConnectorFormModal
        opened={adding}
        onClose={() => setAdding(false)}
        onCreated={(connector) => {
          setAdding(false);
          notifications.show({
            color: "teal",
            title: "Connector added",
            message: `${connector.name} is ready. Test it, or run it now.`,
          });
        }}
      />
      <TestResult outcome={outcome} onClose={() => setOutcome(null)} />
      <ConfirmDialog
        opened={deleting !== null}
        title="Delete connector"
        confirmLabel="Delete connector"
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: () => {
              notifications.show({ color: "teal", title: "Connector deleted", message: `${deleting.name} is gone.` });
              closeDelete();
              if (selected === deleting.id) showRuns(null);
            },
          })
        }
        onClose={closeDelete}
        pending={remove.isPending}
        error={remove.error}
      >
        Delete <strong>{deleting?.name}</strong> and every identity it discovered? Their open findings are resolved; the
        audit log keeps the history. This cannot be undone.
      </ConfirmDialog>
    </>
  );
}
