import { Group, Text } from "@mantine/core";

export function BrandMark({ size = 26 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="var(--mantine-primary-color-filled)" />
      <path d="M9 23V9h3.2l7.6 9.3V9H23v14h-3.2l-7.6-9.3V23z" fill="#fff" />
    </svg>
  );
}

export function Brand() {
  return (
    <Group gap={8} wrap="nowrap">
      <BrandMark />
      <Text fw={700} fz="lg" style={{ letterSpacing: "-0.01em" }}>
        Nexora
      </Text>
    </Group>
  );
}
