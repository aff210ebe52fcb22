import { Badge, Group } from "@mantine/core";

export function ScopeBadges({ values, color }: { values: readonly string[]; color?: string }) {
  return (
    <Group gap={4} wrap="wrap">
      {values.map((value) => (
        <Badge key={value} size="sm" variant="light" color={value === "admin" ? "orange" : color}>
          {value}
        </Badge>
      ))}
    </Group>
  );
}
