import { Badge, Group, Progress, Text, Tooltip } from "@mantine/core";

import { CATEGORY_INFO, ENVIRONMENT_COLOR, environmentLabel, riskBand, SEVERITY_COLOR } from "./labels";

/** A 0-100 risk score with its band's colour; the band is spelled out for those who do not see colour. */
export function RiskScore({ score, width = 64 }: { score: number; width?: number }) {
  const band = riskBand(score);
  return (
    <Group gap={8} wrap="nowrap" aria-label={`Risk ${score} of 100, ${band.label.toLowerCase()}`}>
      <Text size="sm" fw={600} w={26} ta="right" ff="monospace">
        {score}
      </Text>
      <Progress value={Math.max(score, 2)} color={band.color} w={width} size="sm" aria-hidden="true" />
    </Group>
  );
}

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge color={SEVERITY_COLOR[severity] ?? "gray"} variant="light" size="sm" miw={64}>
      {severity}
    </Badge>
  );
}

/** An environment; `short` uses the compact name (prod, dev) for dense tables. */
export function EnvironmentBadge({
  environment,
  overridden = false,
  short = false,
}: {
  environment: string;
  overridden?: boolean;
  short?: boolean;
}) {
  return (
    <Badge
      color={ENVIRONMENT_COLOR[environment] ?? "gray"}
      variant="dot"
      size="sm"

      title={overridden ? "Set by a person (override)" : undefined}
    >
      {short ? environment : environmentLabel(environment)}
      {overridden ? " (set)" : ""}
    </Badge>
  );
}

export function CategoryBadge({ category }: { category: string }) {
  const info = CATEGORY_INFO[category];
  return (
    <Tooltip label={info ? `${category}: ${info.name}` : category} disabled={!info}>
      <Badge variant="outline" color="gray" size="sm" radius="sm">
        {category}
      </Badge>
    </Tooltip>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const color = status === "open" ? "red" : status === "resolved" ? "teal" : "gray";
  return (
    <Badge color={color} variant="outline" size="sm">
      {status}
    </Badge>
  );
}
