import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { finding, overview } from "../../test/discoveryData";
import { FakeApi, json } from "../../test/fakeApi";
import { renderConsole } from "../../test/render";
import FindingsPage from "./FindingsPage";

const user = userEvent.setup({ delay: null });

function findingsApi() {
  const leaked = finding({
    category: "NHI2",
    severity: "critical",
    check_id: "secret.leaked",
    title: "Secret (aws-access-key-id) found in app/settings.py",
    evidence: { preview: "AKIA…MPLE", location: "app/settings.py", line: 10 },
    recommendation: "Revoke and rotate the secret at its provider, then remove it from the code and its history.",
  });
  const api = new FakeApi();
  api.on("GET /api/v1/overview", () => json(200, overview()));
  api.on("GET /api/v1/findings", () => json(200, { items: [leaked, finding()], next_cursor: null }));
  return { api, leaked };
}

describe("findings", () => {
  it("opens a finding with its evidence and recommended fix, and keeps it in the URL", async () => {
    const { api, leaked } = findingsApi();
    renderConsole(<FindingsPage />, { api, path: "/findings" });

    await user.click(await screen.findByRole("button", { name: leaked.title }));

    const drawer = await screen.findByRole("dialog");
    expect(within(drawer).getByRole("heading", { name: leaked.title })).toBeInTheDocument();
    expect(drawer).toHaveTextContent("NHI2 Secret leakage:");
    expect(drawer).toHaveTextContent("Recommended fixRevoke and rotate the secret at its provider");
    expect(drawer).toHaveTextContent("previewAKIA…MPLE");
    expect(screen.getByTestId("location").dataset.search).toBe(`?open=${leaked.id}`);
  });

  it("filters by category from the summary cards and by status", async () => {
    const { api } = findingsApi();
    renderConsole(<FindingsPage />, { api, path: "/findings" });

    await user.click(await screen.findByRole("button", { name: "NHI7 Long-lived secrets: 40 open" }));
    await waitFor(() => expect(api.queries("/api/v1/findings").at(-1)?.getAll("category")).toEqual(["NHI7"]));
    await user.click(screen.getByRole("radio", { name: "Resolved" }));

    await waitFor(() => expect(api.queries("/api/v1/findings").at(-1)?.get("status")).toBe("resolved"));
    expect(screen.getByTestId("location").dataset.search).toBe("?status=resolved&category=NHI7");
  });
});
