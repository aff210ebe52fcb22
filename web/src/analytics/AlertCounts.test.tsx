import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { FakeApi, json, problem } from "../test/fakeApi";
import { renderConsole } from "../test/render";
import { AlertCounts } from "./AlertCounts";
import { alertSummary } from "./testData";

describe("alert counts on the overview", () => {
  it("shows the active alerts in all and by severity, each linking to the alerts behind it", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/alerts/summary", () => json(200, alertSummary()));
    renderConsole(<AlertCounts />, { api });

    expect(await screen.findByRole("link", { name: "Active alerts: 9" })).toHaveAttribute("href", "/alerts");
    expect(screen.getByText("7 not acknowledged yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Critical alerts: 1" })).toHaveAttribute(
      "href",
      "/alerts?severity=critical",
    );
    expect(screen.getByRole("link", { name: "Low alerts: 1" })).toHaveAttribute("href", "/alerts?severity=low");
  });

  it("counts a severity the server leaves out as zero", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/alerts/summary", () => json(200, alertSummary({ active: 2, active_by_severity: { high: 2 } })));
    renderConsole(<AlertCounts />, { api });

    expect(await screen.findByRole("link", { name: "High alerts: 2" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Medium alerts: 0" })).toBeInTheDocument();
  });

  it("says why the counts are missing instead of showing zeros", async () => {
    const api = new FakeApi();
    api.on("GET /api/v1/alerts/summary", () => problem(503, "the analytics store is not reachable"));
    renderConsole(<AlertCounts />, { api });

    expect(await screen.findByRole("alert", {}, { timeout: 10_000 })).toHaveTextContent(
      "The analytics store is not reachable",
    );
  });
});
