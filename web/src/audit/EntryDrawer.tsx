import { Alert, Badge, Button, Code, Drawer, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { IconCircleCheck, IconCircleX } from "@tabler/icons-react";

import { ErrorState } from "../ui/states";
import { DetailList, JsonDetails } from "../ui/Details";
import { redactText } from "../ui/redact";
import { useInclusionProof, useLatestHead, type Entry } from "./useAudit";

export const OUTCOME_COLOR: Record<string, string> = { success: "teal", failure: "red", denied: "orange" };

/** Proves the entry is in the newest signed tree: the proof's root must equal the signed head's root. */
function Inclusion({ entry }: { entry: Entry }) {
  const head = useLatestHead();
  const proof = useInclusionProof();
  const signed = head.data;
  if (!signed || entry.seq >= signed.tree_size) {
    return (
      <Text size="sm" c="dimmed">
        This entry is newer than the latest signed tree head; sign one to prove its inclusion.
      </Text>
    );
  }
  const matches = proof.data ? proof.data.root_hash === signed.root_hash : null;
  return (
    <Stack gap="xs">
      <Group>
        <Button
          size="xs"
          variant="default"
          loading={proof.isPending}
          onClick={() => proof.mutate({ seq: entry.seq, treeSize: signed.tree_size })}
        >
          Check inclusion in the signed tree of {signed.tree_size} entries
        </Button>
      </Group>
      {proof.isError && <ErrorState error={proof.error} title="No proof" />}
      {proof.data && (
        <Alert
          color={matches ? "teal" : "red"}
          variant="light"
          icon={matches ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
          title={matches ? "Included" : "The proof does not match the signed head"}
        >
          {matches
            ? `An audit path of ${proof.data.audit_path.length} hashes leads from this entry's leaf hash to the root the head signed.`
            : "The root computed from this entry differs from the signed root. Verify the log."}
        </Alert>
      )}
    </Stack>
  );
}

/** One audit entry in full, its payload redacted, with an inclusion proof on demand. */
export function EntryDrawer({ entry, onClose }: { entry: Entry | null; onClose: () => void }) {
  return (
    <Drawer
      opened={entry !== null}
      onClose={onClose}
      position="right"
      size="lg"
      title={<Text fw={600}>Audit entry {entry ? `#${entry.seq}` : ""}</Text>}
    >
      {entry && (
        <Stack gap="md">
          <Group gap={6}>
            <Code fz="sm">{entry.action}</Code>
            <Badge color={OUTCOME_COLOR[entry.outcome] ?? "gray"} variant="light" size="sm">
              {entry.outcome}
            </Badge>
          </Group>
          <DetailList
            items={[
              { label: "Sequence", value: entry.seq },
              { label: "Occurred", value: entry.occurred_at },
              { label: "Recorded", value: entry.recorded_at },
              { label: "Actor", value: <Code fz="xs">{redactText(entry.actor)}</Code> },
              { label: "Target", value: entry.target ? <Code fz="xs">{redactText(entry.target)}</Code> : "—" },
              { label: "Source", value: entry.source },
              { label: "Address", value: entry.source_address ?? "—" },
              { label: "Request", value: entry.request_id ? <Code fz="xs">{entry.request_id}</Code> : "—" },
              { label: "Event", value: <Code fz="xs">{entry.event_id}</Code> },
              { label: "Leaf hash", value: <Code fz="xs">{entry.leaf_hash}</Code> },
            ]}
          />
          <Paper withBorder p="sm">
            <Title order={3} fz="sm" mb="xs">
              Payload
            </Title>
            <JsonDetails value={entry.payload} empty="No payload." />
          </Paper>
          <Paper withBorder p="sm">
            <Title order={3} fz="sm" mb="xs">
              Inclusion proof
            </Title>
            <Inclusion entry={entry} />
          </Paper>
        </Stack>
      )}
    </Drawer>
  );
}
