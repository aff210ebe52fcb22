import type { ReactNode } from "react";
import { Alert, Button, Center, Group, Loader, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import { IconAlertTriangle, IconInbox, IconRefresh } from "@tabler/icons-react";

import { ApiError, errorMessage } from "../api/problem";

/** A region whose content is on its way. */
export function LoadingState({ label = "Loading…" }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Group>
    </Center>
  );
}

/** Nothing to show yet, with what to do about it. */
export function EmptyState({
  title,
  description,
  action,
  icon = <IconInbox size={22} stroke={1.6} />,
}: {
  title: string;
  description?: ReactNode;
  action?: ReactNode;
  icon?: ReactNode;
}) {
  return (
    <Center py="xl" px="md">
      <Stack align="center" gap="xs" maw={460} ta="center">
        <ThemeIcon variant="light" size={44} radius="xl" color="gray">
          {icon}
        </ThemeIcon>
        <Title order={3} fz="md">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm">
            {description}
          </Text>
        )}
        {action}
      </Stack>
    </Center>
  );
}

/** A failed request, as the API described it (never a stack trace), with a retry when it may help. */
export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  const heading = title ?? (error instanceof ApiError ? error.title : "Could not load this");
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={heading} role="alert" my="md">
      <Stack gap="xs">
        <Text size="sm">{errorMessage(error)}</Text>
        {requestId && (
          <Text size="xs" c="dimmed">
            Request id: <code>{requestId}</code>
          </Text>
        )}
        {onRetry && (
          <Group>
            <Button size="xs" variant="default" leftSection={<IconRefresh size={14} />} onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}
