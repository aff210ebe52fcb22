import { Badge } from "@mantine/core";

const COLOR: Record<string, string> = { admin: "red", high: "orange", medium: "yellow", low: "blue", none: "gray" };

/** How much an identity can do, as discovery summarised its permissions. */
export function PrivilegeBadge({ level }: { level: string }) {
  return (
    <Badge color={COLOR[level] ?? "gray"} variant="outline" size="sm">
      {level}
    </Badge>
  );
}
