import { Alert, Badge, Button, Code, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconShieldCheck, IconShieldX, IconSignature } from "@tabler/icons-react";

import { errorMessage } from "../api/problem";
import { formatCount } from "../ui/format";
import { ErrorState } from "../ui/states";
import { Time } from "../ui/Time";
import { useLatestHead, useSignHead, useVerify, type Verification } from "./useAudit";

function VerificationResult({ result }: { result: Verification }) {
  const coverage =
    result.unsigned_entries > 0
      ? ` ${formatCount(result.unsigned_entries)} newer entr${result.unsigned_entries === 1 ? "y is" : "ies are"} not covered by a signature yet.`
      : " Every entry is covered by a signature.";
  return (
    <Stack gap="sm" data-testid="verification-result" data-ok={result.ok}>
      <Alert
        color={result.ok ? "teal" : "red"}
        variant="light"
        icon={result.ok ? <IconShieldCheck size={20} /> : <IconShieldX size={20} />}
        title={result.ok ? "Log verified" : `Verification failed: ${formatCount(result.problem_count)} problem(s)`}
        role={result.ok ? "status" : "alert"}
      >
        {result.ok
          ? `All ${formatCount(result.entries)} entries match their hashes, and ${formatCount(result.heads)} signed tree head(s) check out against the published keys.${coverage}`
          : `The log does not match its signed heads from entry ${result.first_bad_seq ?? "?"} on. Treat every entry from there as suspect and investigate who could write to the database.`}
      </Alert>
      <Group gap="lg" wrap="wrap">
        <Text size="sm">
          Entries <strong>{formatCount(result.entries)}</strong>
        </Text>
        <Text size="sm">
          Signed heads <strong>{formatCount(result.heads)}</strong>
        </Text>
        <Text size="sm">
          Covered by signatures <strong>{formatCount(result.signed_size)}</strong>
        </Text>
        <Text size="sm">
          Not yet signed <strong>{formatCount(result.unsigned_entries)}</strong>
        </Text>
      </Group>
      {result.problems.length > 0 && (
        <Table.ScrollContainer minWidth={520} type="native">
          <Table verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Problem</Table.Th>
                <Table.Th scope="col">From entry</Table.Th>
                <Table.Th scope="col">What was found</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.problems.map((problem, index) => (
                <Table.Tr key={index}>
                  <Table.Td>
                    <Badge color="red" variant="light" size="sm">
                      {problem.kind.replace(/_/g, " ")}
                    </Badge>
                  </Table.Td>
                  <Table.Td fz="sm">{problem.seq ?? "—"}</Table.Td>
                  <Table.Td fz="sm">{problem.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {result.problem_count > result.problems.length && (
        <Text size="xs" c="dimmed">
          Showing {result.problems.length} of {formatCount(result.problem_count)} problems.
        </Text>
      )}
      {result.warnings.map((warning) => (
        <Text key={warning} size="xs" c="yellow">
          {warning}
        </Text>
      ))}
    </Stack>
  );
}

/** The log's integrity: its newest signed head, verification on demand and signing now. */
export function IntegrityPanel() {
  const head = useLatestHead();
  const verify = useVerify();
  const sign = useSignHead();

  return (
    <Paper withBorder p="md" mb="md" component="section" aria-labelledby="integrity-heading">
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm" mb="sm">
        <Stack gap={4}>
          <Title order={2} fz="md" id="integrity-heading">
            Log integrity
          </Title>
          <Text size="sm" c="dimmed" maw={640}>
            Entries form a Merkle tree whose head is signed with Ed25519. Verification rebuilds the tree from every
            entry and checks each signed head, so a changed, removed or inserted entry is named.
          </Text>
          {head.data ? (
            <Text size="xs" c="dimmed">
              Latest signed head: {formatCount(head.data.tree_size)} entries, signed{" "}
              <Time value={head.data.timestamp} /> with key <Code fz="xs">{head.data.key_id.slice(0, 12)}</Code>
            </Text>
          ) : head.data === null ? (
            <Text size="xs" c="dimmed">
              No signed tree head yet: the server signs one every minute.
            </Text>
          ) : null}
        </Stack>
        <Group gap="xs">
          <Button
            variant="default"
            leftSection={<IconSignature size={16} />}
            loading={sign.isPending}
            onClick={() =>
              sign.mutate(undefined, {
                onSuccess: (signed) =>
                  notifications.show({
                    color: "teal",
                    title: "Tree head signed",
                    message: `The first ${formatCount(signed.tree_size)} entries are now covered by a signature.`,
                  }),
                onError: (error) =>
                  notifications.show({ color: "red", title: "Could not sign", message: errorMessage(error) }),
              })
            }
          >
            Sign now
          </Button>
          <Button
            leftSection={<IconShieldCheck size={16} />}
            loading={verify.isPending}
            onClick={() => verify.mutate()}
          >
            Verify log
          </Button>
        </Group>
      </Group>
      {verify.isError && <ErrorState error={verify.error} title="Verification could not run" />}
      {verify.data && <VerificationResult result={verify.data} />}
    </Paper>
  );
}
