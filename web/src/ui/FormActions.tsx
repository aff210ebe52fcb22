import { Button, Group } from "@mantine/core";

/** A dialog form's footer: Cancel, then the submit button (busy while the request is in flight). */
export function FormActions({
  submitLabel,
  onCancel,
  pending = false,
  disabled = false,
}: {
  submitLabel: string;
  onCancel: () => void;
  pending?: boolean;
  disabled?: boolean;
}) {
  return (
    <Group justify="flex-end" gap="xs">
      <Button variant="default" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={pending} disabled={disabled}>
        {submitLabel}
      </Button>
    </Group>
  );
}
