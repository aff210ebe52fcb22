import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { FakeApi, json, problem } from "../../test/fakeApi";
import { nhi, overview } from "../../test/discoveryData";
import { renderConsole } from "../../test/render";
import InventoryPage from "./InventoryPage";

const user = userEvent.setup({ delay: null });

/** A fake inventory of `count` identities served in keyset pages like the real API (cursor = next index). */
function inventoryApi(count = 60) {
  const all = Array.from({ length: count }, (_, index) =>
    nhi({ name: `identity-${String(index).padStart(3, "0")}`, risk_score: 100 - (index % 100) }),
  );
  const api = new FakeApi();
  api.on("GET /api/v1/overview", () => json(200, overview({ total: count })));
  api.on("GET /api/v1/nhis", (_request, url) => {
    const limit = Number(url.searchParams.get("limit") ?? 50);
    const start = Number(url.searchParams.get("cursor") ?? 0);
    const items = all.slice(start, start + limit);
    return json(200, { items, next_cursor: start + limit < all.length ? String(start + limit) : null });
  });
  return api;
}

function location() {
  return new URLSearchParams(screen.getByTestId("location").dataset.search ?? "");
}

describe("inventory", () => {
  it("shows the first page sorted by risk, with a pager", async () => {
    const api = inventoryApi();
    renderConsole(<InventoryPage />, { api, path: "/inventory?limit=25" });

    const table = await screen.findByRole("table", { name: "Identities" });
    expect((await within(table).findByText("identity-000")).closest("a")).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/nhis\/[0-9a-f-]{36}$/),
    );
    expect(table.querySelectorAll("tbody tr")).toHaveLength(25);
    expect(api.queries("/api/v1/nhis")[0]?.get("sort")).toBe("-risk");
    expect(await screen.findByText("1–25")).toBeInTheDocument();
    expect(api.requests).not.toContain("GET /api/v1/overview");
    expect(within(table).getByRole("columnheader", { name: /Risk/ })).toHaveAttribute("aria-sort", "descending");
  });

  it("sorts on the server when a column header is clicked, and keeps the sort in the URL", async () => {
    const api = inventoryApi();
    renderConsole(<InventoryPage />, { api, path: "/inventory?limit=25" });
    await screen.findByText("identity-000");

    await user.click(screen.getByRole("button", { name: "Sort by identity ascending" }));

    await waitFor(() => expect(location().get("sort")).toBe("name"));
    await waitFor(() => expect(api.queries("/api/v1/nhis").at(-1)?.get("sort")).toBe("name"));
    expect(screen.getByRole("columnheader", { name: /Identity/ })).toHaveAttribute("aria-sort", "ascending");
  });

  it("pages forward with the server's cursor and back again", async () => {
    const api = inventoryApi();
    renderConsole(<InventoryPage />, { api, path: "/inventory?limit=25" });
    await screen.findByText("identity-000");

    await user.click(screen.getByRole("button", { name: "Next" }));

    expect(await screen.findByText("identity-025")).toBeInTheDocument();
    expect(location().get("cursor")).toBe("25");
    expect(await screen.findByText("26–50")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Previous" }));
    expect(await screen.findByText("identity-000")).toBeInTheDocument();
    expect(location().get("cursor")).toBeNull();
  });

  it("sends the filters of a saved address and changes them from the filter bar", async () => {
    const api = inventoryApi();
    renderConsole(<InventoryPage />, { api, path: "/inventory?limit=25&environment=prod&stale=true&risk_min=50" });
    await screen.findByText("identity-000");
    const first = api.queries("/api/v1/nhis")[0];
    expect([first?.getAll("environment"), first?.get("stale"), first?.get("risk_min")]).toEqual([
      ["prod"],
      "true",
      "50",
    ]);

    await user.click(screen.getByRole("button", { name: "Kind: any kind" }));
    // Opening a filter list asks for the counts it shows.
    expect(await screen.findByRole("option", { name: "Access key 700" })).toBeInTheDocument();
    await user.click(screen.getByRole("option", { name: "Access key 700" }));

    await waitFor(() => expect(location().getAll("kind")).toEqual(["access_key"]));
    await waitFor(() => expect(api.queries("/api/v1/nhis").at(-1)?.getAll("kind")).toEqual(["access_key"]));
    expect(location().get("environment")).toBe("prod");
  });

  it("searches as the user types, once they pause", async () => {
    const api = inventoryApi();
    renderConsole(<InventoryPage />, { api, path: "/inventory?limit=25" });
    await screen.findByText("identity-000");

    await user.type(screen.getByRole("textbox", { name: "Search identities" }), "billing");

    await waitFor(() => expect(location().get("q")).toBe("billing"));
    const searched = api.queries("/api/v1/nhis").filter((query) => query.get("q") !== null);
    expect(searched.map((query) => query.get("q"))).toEqual(["billing"]);
  });

  it("says when no identity matches the filters", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/overview", () => json(200, overview()));
    api.on("GET /api/v1/nhis", () => json(200, { items: [], next_cursor: null }));
    renderConsole(<InventoryPage />, { api, path: "/inventory?kind=deploy_key" });

    expect(await screen.findByText("No identity matches these filters")).toBeInTheDocument();
  });

  it("shows the API's refusal as a readable message", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/overview", () => json(200, overview()));
    api.on("GET /api/v1/nhis", () =>
      problem(422, "unknown kind ['gizmo']; choose from: iam_user, iam_role", { title: "Invalid input" }),
    );
    renderConsole(<InventoryPage />, { api, path: "/inventory?kind=gizmo" });

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Unknown kind ['gizmo']; choose from: iam_user, iam_role");
    expect(within(alert).getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
