import { Text } from "@mantine/core";

import { formatAbsolute, formatRelative, formatUtc, parseDate } from "./format";

/**
 * A timestamp shown relative to now, with the exact local and UTC time as its title (a native title, not a
 * tooltip component: tables render hundreds of these).
 */
export function Time({ value, empty = "—" }: { value: string | null | undefined; empty?: string }) {
  const date = parseDate(value);
  if (!date) {
    return (
      <Text span c="dimmed" size="sm">
        {empty}
      </Text>
    );
  }
  return (
    <time dateTime={date.toISOString()} title={`${formatAbsolute(date)} (${formatUtc(date)})`}>
      {formatRelative(date)}
    </time>
  );
}
