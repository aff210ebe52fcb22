import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { overview } from "../../test/discoveryData";
import { FakeApi, json } from "../../test/fakeApi";
import { renderConsole } from "../../test/render";
import OverviewPage from "./OverviewPage";

const user = userEvent.setup({ delay: null });

describe("overview", () => {
  it("shows the headline counts, each linking to the list behind it", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/overview", () => json(200, overview()));
    renderConsole(<OverviewPage />, { api });

    expect(await screen.findByRole("link", { name: "Identities: 1234" })).toHaveAttribute("href", "/inventory");
    expect(screen.getByRole("link", { name: "Open findings: 43" })).toHaveAttribute("href", "/findings");
    expect(screen.getByRole("link", { name: "Stale: 34" })).toHaveAttribute("href", "/inventory?stale=true");
    expect(screen.getByRole("link", { name: "Orphaned: 12" })).toHaveAttribute("href", "/inventory?owner=none");
    expect(screen.getByRole("link", { name: "Critical risk (75–100): 5 identities" })).toHaveAttribute(
      "href",
      "/inventory?risk_min=75&risk_max=100",
    );
  });

  it("gives screen readers the numbers behind each chart", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/overview", () => json(200, overview()));
    renderConsole(<OverviewPage />, { api });

    const table = await screen.findByRole("table", { name: "Open findings by OWASP NHI category" });
    expect(within(table).getByRole("row", { name: "NHI7 Long-lived secrets 40" })).toBeInTheDocument();
    expect(within(table).getByRole("row", { name: "NHI2 Secret leakage 3" })).toBeInTheDocument();
  });

  it("asks for a longer trend window from the server", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/overview", () => json(200, overview()));
    renderConsole(<OverviewPage />, { api });
    await screen.findByRole("link", { name: "Identities: 1234" });

    await user.click(screen.getByRole("radio", { name: "90 d" }));

    await waitFor(() =>
      expect(api.queries("/api/v1/overview").map((query) => query.get("window_days"))).toContain("90"),
    );
  });

  it("offers an empty tenant a connector or the demo environment", async () => {
    const api = new FakeApi();
    let loaded = false;
    api.on("GET /api/v1/overview", () =>
      json(200, loaded ? overview() : overview({ total: 0, by_provider: [], by_kind: [], by_environment: [] })),
    );
    api.on("POST /api/v1/demo", () => {
      loaded = true;
      return json(201, {
        connector_id: "00000000-0000-4000-8000-0000000000c1",
        run: {
          id: "00000000-0000-4000-8000-0000000000r1",
          connector_id: "00000000-0000-4000-8000-0000000000c1",
          trigger: "demo",
          status: "succeeded",
          stage: "done",
          started_at: "2026-11-26T00:00:00Z",
          finished_at: "2026-11-26T00:00:01Z",
          duration_ms: 800,
          counts: { seen: 578 },
          errors: [],
          is_baseline: true,
        },
      });
    });
    renderConsole(<OverviewPage />, { api });

    expect(await screen.findByText("No identities discovered yet")).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Add a connector" })).toHaveAttribute("href", "/connectors");
    await user.click(screen.getByRole("button", { name: "Load demo data" }));

    expect(await screen.findByRole("link", { name: "Identities: 1234" })).toBeInTheDocument();
    expect(api.requests).toContain("POST /api/v1/demo");
  });
});
