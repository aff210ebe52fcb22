import { Badge, Group, Paper, RingProgress, Stack, Text, Title } from "@mantine/core";

import { factorLabel, riskBand } from "../labels";
import type { NhiDetail } from "../useNhis";

interface Factor {
  factor: string;
  category?: string;
  points?: number;
  multiplier?: number;
}

function factorsOf(detail: NhiDetail): Factor[] {
  return detail.risk_factors.flatMap((raw) => {
    const factor = raw.factor;
    if (typeof factor !== "string") return [];
    return [
      {
        factor,
        category: typeof raw.category === "string" ? raw.category : undefined,
        points: typeof raw.points === "number" ? raw.points : undefined,
        multiplier: typeof raw.multiplier === "number" ? raw.multiplier : undefined,
      },
    ];
  });
}

/** The 0-100 score and what makes it up: points per finding and privilege, times the environment factor. */
export function RiskCard({ detail }: { detail: NhiDetail }) {
  const band = riskBand(detail.risk_score);
  const factors = factorsOf(detail);
  return (
    <Paper withBorder p="md" h="100%" component="section" aria-labelledby="risk-heading">
      <Title order={2} fz="md" id="risk-heading" mb="sm">
        Risk score
      </Title>
      <Group align="center" gap="lg" wrap="nowrap">
        <RingProgress
          size={108}
          thickness={10}
          roundCaps
          sections={[{ value: Math.max(detail.risk_score, 1), color: band.color }]}
          label={
            <Stack gap={0} align="center">
              <Text fz={26} fw={700} lh={1}>
                {detail.risk_score}
              </Text>
              <Text size="xs" c="dimmed">
                of 100
              </Text>
            </Stack>
          }
          aria-label={`Risk score ${detail.risk_score} of 100`}
        />
        <Stack gap={4}>
          <Badge color={band.color} variant="light" size="lg">
            {band.label} risk
          </Badge>
          <Text size="xs" c="dimmed" maw={220}>
            Points for each open finding and for privilege, scaled by the environment.
          </Text>
        </Stack>
      </Group>
      {factors.length === 0 ? (
        <Text size="sm" c="dimmed" mt="md">
          No risk factors: no check fails for this identity.
        </Text>
      ) : (
        <Stack gap={6} mt="md" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Factors">
          {factors.map((factor) => (
            <Group key={factor.factor} component="li" justify="space-between" wrap="nowrap" gap="xs">
              <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }}>
                {factor.category && (
                  <Badge variant="outline" color="gray" size="xs">
                    {factor.category}
                  </Badge>
                )}
                <Text size="sm" truncate="end">
                  {factorLabel(factor.factor)}
                </Text>
              </Group>
              <Text size="sm" fw={600} ff="monospace" style={{ flexShrink: 0 }}>
                {factor.points !== undefined ? `+${factor.points}` : `×${factor.multiplier ?? 1}`}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Paper>
  );
}
