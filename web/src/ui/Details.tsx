import type { ReactNode } from "react";
import { Code, Table, Text } from "@mantine/core";

import { redactValue } from "./redact";

export interface DetailItem {
  label: string;
  value: ReactNode;
}

/** Label/value pairs as a two-column table (readable by screen readers as a list of facts). */
export function DetailList({ items, labelWidth = 160 }: { items: DetailItem[]; labelWidth?: number }) {
  return (
    <Table withRowBorders={false} verticalSpacing={6} horizontalSpacing={0} layout="fixed">
      <Table.Tbody>
        {items.map((item) => (
          <Table.Tr key={item.label}>
            <Table.Th scope="row" w={labelWidth} fw={500} c="dimmed" fz="sm" style={{ verticalAlign: "top" }}>
              {item.label}
            </Table.Th>
            <Table.Td fz="sm" style={{ overflowWrap: "anywhere" }}>
              {item.value}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function scalar(value: unknown): ReactNode {
  if (value === null || value === undefined || value === "") {
    return (
      <Text span c="dimmed" size="sm">
        —
      </Text>
    );
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" || typeof value === "number") return String(value);
  return (
    <Code block fz="xs" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
      {JSON.stringify(value, null, 2)}
    </Code>
  );
}

/**
 * Free-form JSON from the API (provider attributes, finding evidence, audit payloads) as label/value rows,
 * redacted first: credential-named fields and credential-shaped strings never reach the page.
 */
export function JsonDetails({ value, empty = "Nothing recorded." }: { value: unknown; empty?: string }) {
  const safe = redactValue(value);
  if (safe && typeof safe === "object" && !Array.isArray(safe)) {
    const entries = Object.entries(safe as Record<string, unknown>);
    if (entries.length === 0) {
      return (
        <Text size="sm" c="dimmed">
          {empty}
        </Text>
      );
    }
    return <DetailList items={entries.map(([label, item]) => ({ label, value: scalar(item) }))} />;
  }
  return <>{scalar(safe)}</>;
}
