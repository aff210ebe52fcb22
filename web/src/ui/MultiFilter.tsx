import { Button, CheckIcon, Combobox, Group, Input, InputBase, Text, useCombobox } from "@mantine/core";

import { formatCount } from "./format";

export interface FilterOption {
  value: string;
  label: string;
  count?: number;
}

/**
 * A compact multiple-choice filter: the field says "Any kind", "Access key" or "3 kinds" instead of growing a
 * pill per choice, and the list (keyboard operable: arrows, Enter, Escape) shows how many items each choice has.
 */
export function MultiFilter({
  label,
  noun,
  options,
  value,
  onChange,
  onOpen,
}: {
  label: string;
  /** Plural noun for the summary, e.g. "kinds". */
  noun: string;
  options: FilterOption[];
  value: string[];
  onChange: (value: string[]) => void;
  /** Called when the list opens (e.g. to fetch the counts it shows). */
  onOpen?: () => void;
}) {
  const combobox = useCombobox({ onDropdownClose: () => combobox.resetSelectedOption(), onDropdownOpen: onOpen });
  const chosen = options.filter((option) => value.includes(option.value));
  const summary =
    value.length === 0 ? null : value.length === 1 ? (chosen[0]?.label ?? value[0]) : `${value.length} ${noun}`;

  return (
    <Combobox
      store={combobox}
      onOptionSubmit={(picked) =>
        onChange(value.includes(picked) ? value.filter((item) => item !== picked) : [...value, picked])
      }
      withinPortal
    >
      <Combobox.Target targetType="button">
        <InputBase
          component="button"
          type="button"
          pointer
          label={label}
          labelProps={{ "aria-hidden": true }}
          aria-label={`${label}: ${summary ?? `any ${label.toLowerCase()}`}`}
          rightSection={<Combobox.Chevron />}
          rightSectionPointerEvents="none"
          onClick={() => combobox.toggleDropdown()}
        >
          {summary ? (
            <Text span size="sm" truncate="end" display="block">
              {summary}
            </Text>
          ) : (
            <Input.Placeholder>Any {label.toLowerCase()}</Input.Placeholder>
          )}
        </InputBase>
      </Combobox.Target>
      <Combobox.Dropdown miw={240}>
        <Combobox.Options mah={300} style={{ overflowY: "auto" }} aria-label={label}>
          {options.length === 0 ? (
            <Combobox.Empty>Nothing to choose from</Combobox.Empty>
          ) : (
            options.map((option) => {
              const selected = value.includes(option.value);
              return (
                <Combobox.Option value={option.value} key={option.value} active={selected} aria-selected={selected}>
                  <Group gap="sm" wrap="nowrap" justify="space-between">
                    <Group gap="xs" wrap="nowrap">
                      <span style={{ width: 12, display: "inline-flex" }}>
                        {selected ? <CheckIcon size={12} /> : null}
                      </span>
                      <span>{option.label}</span>
                    </Group>
                    {option.count !== undefined && (
                      <Text size="xs" c="dimmed">
                        {formatCount(option.count)}
                      </Text>
                    )}
                  </Group>
                </Combobox.Option>
              );
            })
          )}
        </Combobox.Options>
        {value.length > 0 && (
          <Combobox.Footer>
            <Button size="compact-xs" variant="subtle" onClick={() => onChange([])}>
              Clear {label.toLowerCase()}
            </Button>
          </Combobox.Footer>
        )}
      </Combobox.Dropdown>
    </Combobox>
  );
}
