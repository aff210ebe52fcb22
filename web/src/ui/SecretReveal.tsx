import { ActionIcon, Code, CopyButton, Group, Paper, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy } from "@tabler/icons-react";

/**
 * A secret shown exactly once (such as a new API key), with a copy button. The caller owns its lifetime:
 * unmounting this removes the value from the page.
 */
export function SecretReveal({ value, label }: { value: string; label: string }) {
  return (
    <Paper withBorder p="xs" radius="sm" bg="var(--mantine-color-default-hover)">
      <Group gap="xs" wrap="nowrap" align="flex-start">
        <Code
          block
          className="secret-value"
          data-secret="true"
          aria-label={label}
          style={{ flex: 1, background: "transparent", padding: 4 }}
        >
          {value}
        </Code>
        <CopyButton value={value} timeout={2500}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? "Copied" : "Copy to clipboard"}>
              <ActionIcon
                variant={copied ? "filled" : "default"}
                color={copied ? "teal" : undefined}
                size="lg"
                onClick={copy}
                aria-label={copied ? "Copied" : `Copy ${label.toLowerCase()}`}
              >
                {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
    </Paper>
  );
}
