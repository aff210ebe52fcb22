import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { nhi } from "../test/discoveryData";
import { FakeApi, json, problem } from "../test/fakeApi";
import { renderConsole } from "../test/render";
import AlertsPage from "./AlertsPage";
import { activityEvent, alert, alertDetail } from "./testData";
import type { Alert } from "./useAlerts";

const user = userEvent.setup({ delay: null });

function alertsApi() {
  const keyCreated = alert({ severity: "critical", title: "Created an access key for another user" });
  const newCountry = alert({
    detector: "anomaly.new_country",
    title: "First call from a new country",
    severity: "medium",
    status: "acknowledged",
    nhi_id: null,
    identity: "aws:assumed-role/ci-deploy",
    identity_name: "ci-deploy",
    tactic_id: "TA0001",
    tactic: "Initial Access",
    technique_id: "T1078.004",
    technique: "Valid Accounts: Cloud Accounts",
    event_count: 12,
  });
  const alerts = [keyCreated, newCountry];
  const api = new FakeApi();
  const patches: { path: string; body: unknown }[] = [];
  api.on("GET /api/v1/alerts", () => json(200, { items: alerts, next_cursor: null }));
  api.on("GET /api/v1/alerts/([^/]+)", (_request, _url, match) => {
    const found = alerts.find((item) => item.id === match[1]);
    return found ? json(200, alertDetail(found)) : problem(404, "alert not found");
  });
  api.on("GET /api/v1/analytics/detectors", () =>
    json(200, [
      {
        id: "anomaly.new_country",
        title: "First call from a new country",
        family: "anomaly",
        severity: "medium",
        attack: {
          tactic_id: "TA0001",
          tactic: "Initial Access",
          technique_id: "T1078.004",
          technique: "Valid Accounts",
        },
      },
    ]),
  );
  api.on("GET /api/v1/nhis/([^/]+)", () => json(200, nhi({ name: "svc-billing/AKIAEXAMPLE000000001" })));
  const apply = (ids: string[], body: { status: Alert["status"]; note?: string }) =>
    alerts
      .filter((item) => ids.includes(item.id))
      .map((item) => Object.assign(item, { status: body.status, note: body.note ?? null }));
  api.on("PATCH /api/v1/alerts", async (request) => {
    const body = (await request.json()) as { ids: string[]; status: Alert["status"] };
    patches.push({ path: "/api/v1/alerts", body });
    return json(200, apply(body.ids, body));
  });
  api.on("PATCH /api/v1/alerts/([^/]+)", async (request, url, match) => {
    const body = (await request.json()) as { status: Alert["status"]; note?: string };
    patches.push({ path: url.pathname, body });
    return json(200, apply([match[1] ?? ""], body)[0]);
  });
  return { api, keyCreated, newCountry, patches };
}

describe("alerts", () => {
  it("lists the active alerts with severity, identity, ATT&CK technique, status and count", async () => {
    const { api, keyCreated } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: "/alerts" });

    await screen.findByRole("button", { name: keyCreated.title });
    const table = screen.getByRole("table", { name: "Alerts" });
    const first = within(table).getAllByRole("row")[1]!;
    expect(first).toHaveTextContent("Created an access key for another user");
    expect(first).toHaveTextContent("critical");
    expect(within(first).getByRole("link", { name: "svc-billing/AKIAEXAMPLE000000001" })).toHaveAttribute(
      "href",
      `/nhis/${keyCreated.nhi_id}`,
    );
    expect(within(first).getByRole("link", { name: "T1098.001" })).toHaveAttribute(
      "href",
      "https://attack.mitre.org/techniques/T1098/001/",
    );
    const second = within(table).getAllByRole("row")[2]!;
    expect(second).toHaveTextContent("ci-deploynot in the inventory");
    expect(second).toHaveTextContent("Acknowledged");
    expect(second).toHaveTextContent("12");
    expect(api.queries("/api/v1/alerts")[0]?.getAll("status")).toEqual(["open", "acknowledged"]);
  });

  it("asks the server again when a filter changes and keeps the filters in the URL", async () => {
    const { api } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: "/alerts" });
    await screen.findByRole("table", { name: "Alerts" });

    await user.click(screen.getByRole("button", { name: "Severity: any severity" }));
    await user.click(await screen.findByRole("option", { name: "critical" }));
    await waitFor(() => expect(api.queries("/api/v1/alerts").at(-1)?.getAll("severity")).toEqual(["critical"]));

    await user.selectOptions(screen.getByRole("combobox", { name: "Tactic" }), "TA0003");
    await waitFor(() => expect(api.queries("/api/v1/alerts").at(-1)?.get("tactic_id")).toBe("TA0003"));

    const detector = screen.getByRole("combobox", { name: "Detector" });
    await waitFor(() => expect(detector.getAttribute("list")).toBe("alert-detectors"));
    expect(await screen.findByRole("option", { name: "First call from a new country", hidden: true })).toHaveValue(
      "anomaly.new_country",
    );
    await user.type(detector, "anomaly.new_country{Enter}");
    await waitFor(() => expect(api.queries("/api/v1/alerts").at(-1)?.get("detector")).toBe("anomaly.new_country"));
    expect(screen.getByTestId("location").dataset.search).toBe(
      "?severity=critical&detector=anomaly.new_country&tactic=TA0003",
    );
  });

  it("shows every status when asked for all of them", async () => {
    const { api } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: "/alerts?status=all" });

    await screen.findByRole("table", { name: "Alerts" });
    expect(api.queries("/api/v1/alerts")[0]?.getAll("status")).toEqual([]);
  });

  it("acknowledges the selected alerts in one request", async () => {
    const { api, keyCreated, newCountry, patches } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: "/alerts" });

    await user.click(await screen.findByRole("checkbox", { name: `Select ${keyCreated.title}` }));
    await user.click(screen.getByRole("checkbox", { name: `Select ${newCountry.title}` }));
    expect(screen.getByRole("region", { name: "Selected alerts" })).toHaveTextContent("2 selected");
    await user.click(screen.getByRole("button", { name: "Acknowledge selected" }));

    await waitFor(() =>
      expect(patches).toEqual([
        { path: "/api/v1/alerts", body: { ids: [keyCreated.id, newCountry.id], status: "acknowledged" } },
      ]),
    );
    expect(await screen.findByText("2 alert(s) acknowledged.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Acknowledge selected" })).toBeDisabled();
  });

  it("opens an alert with its explanation, ATT&CK mapping and the raw evidence pretty-printed", async () => {
    const { api, keyCreated } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: "/alerts" });

    await user.click(await screen.findByRole("button", { name: keyCreated.title }));

    const drawer = await screen.findByRole("dialog");
    expect(within(drawer).getByRole("heading", { name: keyCreated.title })).toBeInTheDocument();
    expect(within(drawer).getByRole("region", { name: "Explanation" })).toHaveTextContent(
      "seeniam:CreateAccessKey for user admin-bob",
    );
    expect(within(drawer).getByRole("region", { name: "MITRE ATT&CK" })).toHaveTextContent(
      "TA0003PersistenceTechniqueT1098.001Account Manipulation: Additional Cloud Credentials",
    );
    const raw = await within(drawer).findByTestId("raw-record");
    expect(raw.tagName).toBe("PRE");
    expect(raw.textContent).toBe(JSON.stringify(activityEvent().raw, null, 2));
    expect(screen.getByTestId("location").dataset.search).toBe(`?open=${keyCreated.id}`);
  });

  it("resolves one alert from its panel with a note", async () => {
    const { api, keyCreated, patches } = alertsApi();
    renderConsole(<AlertsPage />, { api, path: `/alerts?open=${keyCreated.id}` });

    const drawer = await screen.findByRole("dialog");
    await user.click(await within(drawer).findByRole("textbox", { name: "Note (optional)" }));
    await user.paste("rotated by the owner");
    await user.click(within(drawer).getByRole("button", { name: "Resolve" }));

    await waitFor(() =>
      expect(patches).toEqual([
        { path: `/api/v1/alerts/${keyCreated.id}`, body: { status: "resolved", note: "rotated by the owner" } },
      ]),
    );
    expect(await within(drawer).findByRole("button", { name: "Reopen" })).toBeInTheDocument();
  });

  it("offers no triage to a viewer", async () => {
    const { api, keyCreated } = alertsApi();
    api.me.roles = ["viewer"];
    renderConsole(<AlertsPage />, { api, path: `/alerts?open=${keyCreated.id}` });

    const drawer = await screen.findByRole("dialog");
    await within(drawer).findByTestId("raw-record");
    await waitFor(() => expect(api.requests).toContain("GET /api/v1/auth/me"));
    expect(within(drawer).queryByRole("button", { name: "Acknowledge" })).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Acknowledge selected" })).not.toBeInTheDocument();
  });
});
