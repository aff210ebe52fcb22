import { Badge, Code, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";

import { DetailList } from "../ui/Details";
import { formatCount, parseDate } from "../ui/format";
import { redactText } from "../ui/redact";
import { Time } from "../ui/Time";
import { HourOfWeekGrid } from "./HourOfWeekGrid";
import { readable } from "./labels";
import { hourOfWeek, profileFacts, topLists, type TopList } from "./profile";
import type { ActivityIdentity } from "./useActivity";

const SHOWN_VALUES = 10;

function factValue(name: string, value: number | boolean | string) {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (name.endsWith("error_rate")) return `${Math.round(value * 1000) / 10} %`;
    return Number.isInteger(value) ? formatCount(value) : String(Math.round(value * 1000) / 1000);
  }
  return name.endsWith("seen") && parseDate(value) ? <Time value={value} /> : redactText(value);
}

function TopTable({ list }: { list: TopList }) {
  return (
    <Table withRowBorders verticalSpacing={4} horizontalSpacing="xs" fz="xs" layout="fixed">
      <Table.Caption style={{ captionSide: "top", textAlign: "left", marginTop: 0 }}>
        <Text span size="sm" fw={600} c="var(--mantine-color-text)">
          {list.label}
        </Text>
      </Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Value</Table.Th>
          <Table.Th w={72} ta="right">
            Events
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {list.items.slice(0, SHOWN_VALUES).map((item) => (
          <Table.Tr key={item.value}>
            <Table.Td style={{ overflowWrap: "anywhere" }} ff="monospace">
              {redactText(item.value)}
            </Table.Td>
            <Table.Td ta="right">{formatCount(item.count)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** One identity's learned behaviour: its rates, when it is active, and what it usually does from where. */
export function BehaviourProfile({ identity }: { identity: ActivityIdentity }) {
  const profile = identity.profile;
  const lists = profile ? topLists(profile) : [];
  const hours = profile ? hourOfWeek(profile) : null;
  const learning = profile?.learning === true;
  return (
    <Paper withBorder p="md" component="article" aria-label={`Behaviour of ${identity.name}`}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
          <Stack gap={2}>
            <Title order={3} fz="sm" style={{ overflowWrap: "anywhere" }}>
              {identity.name}
            </Title>
            <Code fz="xs" style={{ overflowWrap: "anywhere" }}>
              {redactText(identity.key)}
            </Code>
          </Stack>
          <Group gap={6}>
            <Badge variant="default" size="sm">
              {identity.source}
            </Badge>
            <Badge variant="light" size="sm">
              {readable(identity.kind)}
            </Badge>
            {learning && (
              <Badge color="yellow" variant="light" size="sm">
                Still learning
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="xs" c="dimmed">
          {formatCount(identity.event_count)} events{identity.account ? ` in account ${identity.account}` : ""} · first
          seen <Time value={identity.first_seen_at} /> · last seen <Time value={identity.last_seen_at} />
        </Text>
        {!profile ? (
          <Text size="sm" c="dimmed">
            No behaviour profile yet: one is learned from this identity's activity as it is ingested.
          </Text>
        ) : (
          <>
            <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
              <DetailList
                labelWidth={180}
                items={profileFacts(profile).map((fact) => ({
                  label: readable(fact.name),
                  value: factValue(fact.name, fact.value),
                }))}
              />
              {hours && <HourOfWeekGrid hours={hours} />}
            </SimpleGrid>
            {lists.length > 0 && (
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
                {lists.map((list) => (
                  // A wrapper keeps each table at its own height instead of stretching to its grid row.
                  <div key={list.name}>
                    <TopTable list={list} />
                  </div>
                ))}
              </SimpleGrid>
            )}
          </>
        )}
      </Stack>
    </Paper>
  );
}
