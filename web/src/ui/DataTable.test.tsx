import { MantineProvider } from "@mantine/core";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { ApiError } from "../api/problem";
import { DataTable, type Column } from "./DataTable";
import { theme } from "./theme";

// No delay between keystrokes: the tests check behaviour, not typing speed.
const user = userEvent.setup({ delay: null });

interface Row {
  id: string;
  name: string;
  owner: string;
}

const COLUMNS: Column<Row>[] = [
  { key: "name", header: "Name", render: (row) => row.name },
  { key: "owner", header: "Owner", render: (row) => row.owner, hideOnPhone: false },
  { key: "actions", header: "Actions", render: (row) => <button type="button">Revoke {row.name}</button> },
];

const ROWS: Row[] = [
  { id: "1", name: "ci-deploy", owner: "alice" },
  { id: "2", name: "siem-export", owner: "bob" },
];

function show(props: Partial<Parameters<typeof DataTable<Row>>[0]> = {}) {
  return render(
    <MantineProvider theme={theme}>
      <DataTable<Row>
        caption="Keys"
        columns={COLUMNS}
        rows={ROWS}
        rowKey={(row) => row.id}
        empty={<p>No keys yet</p>}
        {...props}
      />
    </MantineProvider>,
  );
}

describe("DataTable", () => {
  it("renders one row per item under its column headers", () => {
    show();

    const table = screen.getByRole("table", { name: "Keys" });
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((cell) => cell.textContent),
    ).toEqual(["Name", "Owner", "Actions"]);
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => within(row).getAllByRole("cell")[0]?.textContent)).toEqual(["ci-deploy", "siem-export"]);
  });

  it("shows skeleton rows while the first page loads", () => {
    show({ rows: undefined, loading: true });

    expect(screen.getAllByTestId("skeleton-row")).toHaveLength(4);
    expect(screen.getByRole("table")).toHaveAttribute("aria-busy", "true");
  });

  it("shows the empty state for an empty list", () => {
    show({ rows: [] });

    expect(screen.getByText("No keys yet")).toBeInTheDocument();
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("shows the API's error with a retry that calls back", async () => {
    let retries = 0;
    const onRetry = () => {
      retries += 1;
    };
    show({
      rows: undefined,
      error: new ApiError({ status: 403, title: "Permission denied", detail: "this needs the admin role" }),
      onRetry,
    });

    expect(screen.getByRole("alert")).toHaveTextContent("This needs the admin role");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(retries).toBe(1);
  });

  it("offers the next page only when there is one", async () => {
    let loads = 0;
    const onLoadMore = () => {
      loads += 1;
    };
    const { rerender } = show({ hasMore: true, onLoadMore });

    await user.click(screen.getByRole("button", { name: "Load more" }));
    expect(loads).toBe(1);

    rerender(
      <MantineProvider theme={theme}>
        <DataTable<Row> caption="Keys" columns={COLUMNS} rows={ROWS} rowKey={(row) => row.id} empty={null} />
      </MantineProvider>,
    );
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("turns rows into cards at phone width, with the first column as title and the actions beside it", () => {
    (window as unknown as { __phone?: boolean }).__phone = true;

    show();

    expect(screen.queryByRole("table")).not.toBeInTheDocument();
    const cards = within(screen.getByRole("list", { name: "Keys" })).getAllByRole("listitem");
    expect(cards).toHaveLength(2);
    expect(cards[0]).toHaveTextContent("ci-deploy");
    expect(within(cards[0] as HTMLElement).getByText("Owner")).toBeInTheDocument();
    expect(within(cards[1] as HTMLElement).getByRole("button", { name: "Revoke siem-export" })).toBeInTheDocument();
  });

  it("sorts by a column from its header, first in the column's natural direction, then reversed", async () => {
    const changes: string[] = [];
    const columns: Column<Row>[] = [
      { key: "name", header: "Name", sortKey: "name", render: (row) => row.name },
      { key: "owner", header: "Owner", sortKey: "owner", sortDescendingFirst: true, render: (row) => row.owner },
    ];
    const { rerender } = render(
      <MantineProvider theme={theme}>
        <DataTable<Row>
          caption="Keys"
          columns={columns}
          rows={ROWS}
          rowKey={(row) => row.id}
          empty={null}
          sort={{ value: "name", onChange: (value) => changes.push(value) }}
        />
      </MantineProvider>,
    );

    expect(screen.getByRole("columnheader", { name: /Name/ })).toHaveAttribute("aria-sort", "ascending");
    expect(screen.getByRole("columnheader", { name: /Owner/ })).toHaveAttribute("aria-sort", "none");
    await user.click(screen.getByRole("button", { name: "Sort by name descending" }));
    await user.click(screen.getByRole("button", { name: "Sort by owner descending" }));
    expect(changes).toEqual(["-name", "-owner"]);

    rerender(
      <MantineProvider theme={theme}>
        <DataTable<Row>
          caption="Keys"
          columns={columns}
          rows={ROWS}
          rowKey={(row) => row.id}
          empty={null}
          sort={{ value: "-owner", onChange: (value) => changes.push(value) }}
        />
      </MantineProvider>,
    );
    expect(screen.getByRole("columnheader", { name: /Owner/ })).toHaveAttribute("aria-sort", "descending");
    await user.click(screen.getByRole("button", { name: "Sort by owner ascending" }));
    expect(changes.at(-1)).toBe("owner");
  });

  it("offers the sort as a select at phone width, where there are no headers", async () => {
    (window as unknown as { __phone?: boolean }).__phone = true;
    const changes: string[] = [];

    show({
      columns: [{ key: "name", header: "Name", sortKey: "name", render: (row) => row.name }, ...COLUMNS.slice(1)],
      sort: { value: "name", onChange: (value) => changes.push(value) },
    });

    await user.selectOptions(screen.getByRole("combobox", { name: "Sort by" }), "Name, high to low");
    expect(changes).toEqual(["-name"]);
  });
});
