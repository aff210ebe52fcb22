import type { ReactNode } from "react";
import { Box, Button, Center, Group, NativeSelect, Paper, Skeleton, Stack, Text, VisuallyHidden } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { IconArrowDown, IconArrowUp, IconArrowsSort } from "@tabler/icons-react";

import classes from "./DataTable.module.css";
import { ErrorState } from "./states";

export interface Column<Row> {
  key: string;
  header: ReactNode;
  render: (row: Row) => ReactNode;
  /** Left out of the phone layout, where each row becomes a card. */
  hideOnPhone?: boolean;
  align?: "left" | "right" | "center";
  width?: number | string;
  /** The server's sort name for this column in ascending order ("name"); descending is "-name". */
  sortKey?: string;
  /** Whether the first click sorts descending (risk, dates) rather than ascending (names). */
  sortDescendingFirst?: boolean;
  /** Plain-text header for the phone sort menu when `header` is not a string. */
  label?: string;
}

/** The current sort ("name" or "-name") and how to change it. */
export interface TableSort {
  value: string;
  onChange: (value: string) => void;
}

export interface DataTableProps<Row> {
  caption: string;
  columns: Column<Row>[];
  rows: Row[] | undefined;
  rowKey: (row: Row) => string;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  empty: ReactNode;
  hasMore?: boolean;
  loadingMore?: boolean;
  onLoadMore?: () => void;
  minWidth?: number;
  sort?: TableSort;
  /** Under the rows, e.g. a pager. */
  footer?: ReactNode;
}

const SKELETON_ROWS = 4;

function columnText<Row>(column: Column<Row>): string {
  return column.label ?? (typeof column.header === "string" ? column.header : column.key);
}

function sortState<Row>(column: Column<Row>, sort: TableSort | undefined): "ascending" | "descending" | undefined {
  if (!sort || !column.sortKey) return undefined;
  if (sort.value === column.sortKey) return "ascending";
  if (sort.value === `-${column.sortKey}`) return "descending";
  return undefined;
}

/** A header that sorts by its column: a button (keyboard operable), with aria-sort on the cell. */
function SortableHeader<Row>({ column, sort }: { column: Column<Row>; sort: TableSort }) {
  const state = sortState(column, sort);
  const key = column.sortKey ?? column.key;
  const next =
    state === undefined ? (column.sortDescendingFirst ? `-${key}` : key) : state === "ascending" ? `-${key}` : key;
  const Icon = state === "ascending" ? IconArrowUp : state === "descending" ? IconArrowDown : IconArrowsSort;
  return (
    <button
      type="button"
      className={classes.sortButton}
      onClick={() => sort.onChange(next)}
      aria-label={`Sort by ${columnText(column).toLowerCase()} ${next.startsWith("-") ? "descending" : "ascending"}`}
    >
      {column.header}
      <Icon size={14} stroke={1.8} style={{ opacity: state ? 1 : 0.45 }} aria-hidden="true" />
    </button>
  );
}

/** At phone width the headers are gone: sorting is a select above the cards. */
function PhoneSort<Row>({ columns, sort }: { columns: Column<Row>[]; sort: TableSort }) {
  const options = columns
    .filter((column) => column.sortKey)
    .flatMap((column) => {
      const key = column.sortKey ?? column.key;
      const name = columnText(column);
      const pair = [
        { value: `-${key}`, label: `${name}, high to low` },
        { value: key, label: `${name}, low to high` },
      ];
      return column.sortDescendingFirst ? pair : pair.reverse();
    });
  if (options.length === 0) return null;
  return (
    <Box p="sm" style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
      <NativeSelect
        label="Sort by"
        size="xs"
        data={options}
        value={sort.value}
        onChange={(event) => sort.onChange(event.currentTarget.value)}
      />
    </Box>
  );
}

/** At phone width each row is a card: the first column is its title, the last its actions. */
function PhoneCards<Row>({
  caption,
  columns,
  rows,
  rowKey,
}: Pick<DataTableProps<Row>, "caption" | "columns" | "rowKey"> & { rows: Row[] }) {
  const [title, ...rest] = columns.filter((column) => !column.hideOnPhone);
  const actions = rest.at(-1)?.key === "actions" ? rest.pop() : undefined;
  return (
    <Stack gap={0} component="ul" aria-label={caption} style={{ listStyle: "none", margin: 0, padding: 0 }}>
      {rows.map((row, index) => (
        <Box
          component="li"
          key={rowKey(row)}
          data-row-key={rowKey(row)}
          p="sm"
          style={index > 0 ? { borderTop: "1px solid var(--mantine-color-default-border)" } : undefined}
        >
          <Group justify="space-between" align="flex-start" wrap="nowrap" mb={6}>
            <Box style={{ minWidth: 0 }}>{title?.render(row)}</Box>
            {actions?.render(row)}
          </Group>
          <Stack gap={4}>
            {rest.map((column) => (
              <Group key={column.key} gap="xs" wrap="nowrap" align="flex-start">
                <Text size="xs" c="dimmed" w={92} style={{ flexShrink: 0 }}>
                  {column.header}
                </Text>
                <Box style={{ minWidth: 0 }} fz="sm">
                  {column.render(row)}
                </Box>
              </Group>
            ))}
          </Stack>
        </Box>
      ))}
    </Stack>
  );
}

/**
 * A dense table with its loading (skeleton rows), error (problem detail and retry) and empty states,
 * and a "Load more" button for cursor-paginated lists. At phone width rows become cards.
 */
export function DataTable<Row>({
  caption,
  columns,
  rows,
  rowKey,
  loading = false,
  error,
  onRetry,
  empty,
  hasMore = false,
  loadingMore = false,
  onLoadMore,
  minWidth = 640,
  sort,
  footer,
}: DataTableProps<Row>) {
  const phone = useMediaQuery("(max-width: 48em)", false, { getInitialValueInEffect: false });
  if (error && !rows?.length) return <ErrorState error={error} onRetry={onRetry} />;
  if (!loading && rows && rows.length === 0) return <Paper withBorder>{empty}</Paper>;

  // Plain table elements (styled by DataTable.module.css): a page of rows costs no component per cell.
  const table = (
    <div className={classes.scroll}>
      <table className={classes.table} style={{ minWidth }} aria-busy={loading || undefined}>
        <caption>
          <VisuallyHidden>{caption}</VisuallyHidden>
        </caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th
                key={column.key}
                data-align={column.align}
                style={column.width ? { width: column.width } : undefined}
                scope="col"
                aria-sort={column.sortKey && sort ? (sortState(column, sort) ?? "none") : undefined}
              >
                {column.sortKey && sort ? <SortableHeader column={column} sort={sort} /> : column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {loading && !rows
            ? Array.from({ length: SKELETON_ROWS }, (_, index) => (
                <tr key={`skeleton-${index}`} data-testid="skeleton-row">
                  {columns.map((column) => (
                    <td key={column.key}>
                      <Skeleton height={12} radius="sm" />
                    </td>
                  ))}
                </tr>
              ))
            : (rows ?? []).map((row) => (
                <tr key={rowKey(row)} data-row-key={rowKey(row)}>
                  {columns.map((column) => (
                    <td key={column.key} data-align={column.align}>
                      {column.render(row)}
                    </td>
                  ))}
                </tr>
              ))}
        </tbody>
      </table>
    </div>
  );

  return (
    <Paper withBorder radius="sm">
      {phone && rows && sort ? <PhoneSort columns={columns} sort={sort} /> : null}
      {phone && rows ? <PhoneCards caption={caption} columns={columns} rows={rows} rowKey={rowKey} /> : table}
      {error && rows?.length ? (
        <Box px="sm">
          <ErrorState error={error} onRetry={onRetry} title="Could not load more" />
        </Box>
      ) : null}
      {hasMore && onLoadMore && (
        <Center py="sm">
          <Button variant="default" size="xs" loading={loadingMore} onClick={onLoadMore}>
            Load more
          </Button>
        </Center>
      )}
      {footer}
    </Paper>
  );
}
