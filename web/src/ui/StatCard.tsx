import type { ReactNode } from "react";
import { Group, Paper, Skeleton, Text, ThemeIcon, UnstyledButton } from "@mantine/core";
import { Link } from "react-router";

import { formatCount } from "./format";

/** One headline number; with `to`, the whole card links to the list behind it. */
export function StatCard({
  label,
  value,
  hint,
  icon,
  color = "nexora",
  to,
}: {
  label: string;
  value: number | undefined;
  hint?: ReactNode;
  icon: ReactNode;
  color?: string;
  to?: string;
}) {
  const body = (
    <Paper withBorder p="md" radius="sm" h="100%">
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <div>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600} style={{ letterSpacing: "0.04em" }}>
            {label}
          </Text>
          {value === undefined ? (
            <Skeleton height={28} width={80} mt={6} />
          ) : (
            <Text fz={28} fw={700} lh={1.2} mt={4}>
              {formatCount(value)}
            </Text>
          )}
        </div>
        <ThemeIcon variant="light" color={color} size={36} radius="sm">
          {icon}
        </ThemeIcon>
      </Group>
      {hint && (
        <Text size="xs" c="dimmed" mt={6}>
          {hint}
        </Text>
      )}
    </Paper>
  );
  if (!to) return body;
  return (
    <UnstyledButton component={Link} to={to} aria-label={`${label}: ${value ?? "loading"}`} h="100%" display="block">
      {body}
    </UnstyledButton>
  );
}
