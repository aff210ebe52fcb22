import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import NhiDetailPage from "../discovery/nhi/NhiDetailPage";
import { graph, nhiDetail } from "../test/discoveryData";
import { FakeApi, json } from "../test/fakeApi";
import { renderConsole } from "../test/render";
import { NhiActivity } from "./NhiActivity";
import { hourOfWeek, topLists } from "./profile";
import { alert, identity } from "./testData";

const user = userEvent.setup({ delay: null });
const NHI_ID = "00000000-0000-4000-8000-0000000000b1";

function activityApi(profiles = [identity()]) {
  const newest = alert({
    title: "Listed every secret in the account",
    severity: "critical",
    technique_id: "T1555.006",
  });
  const older = alert({ title: "First call from a new country", severity: "low", status: "resolved" });
  const api = new FakeApi();
  api.on("GET /api/v1/alerts", () => json(200, { items: [newest, older], next_cursor: null }));
  api.on("GET /api/v1/activity/nhis/([^/]+)/profiles", () => json(200, profiles));
  return { api, newest, older };
}

describe("identity activity", () => {
  it("lists the identity's alerts newest first, each opening on the alerts page", async () => {
    const { api, newest } = activityApi();
    renderConsole(<NhiActivity nhiId={NHI_ID} />, { api });

    const timeline = await screen.findByRole("region", { name: "Alert timeline" });
    const links = await within(timeline).findAllByRole("link", { name: /Listed every secret|First call/ });
    expect(links.map((link) => link.textContent)).toEqual([
      "Listed every secret in the account",
      "First call from a new country",
    ]);
    expect(links[0]).toHaveAttribute("href", `/alerts?status=all&nhi=${NHI_ID}&open=${newest.id}`);
    expect(timeline).toHaveTextContent("critical");
    expect(api.queries("/api/v1/alerts")[0]?.get("nhi_id")).toBe(NHI_ID);
    expect(api.queries("/api/v1/alerts")[0]?.getAll("status")).toEqual([]);
  });

  it("shows the behaviour profile: facts, top values and the hour-of-week grid", async () => {
    const { api } = activityApi();
    renderConsole(<NhiActivity nhiId={NHI_ID} />, { api });

    const profile = await screen.findByRole("article", { name: "Behaviour of svc-billing/AKIAEXAMPLE000000001" });
    expect(within(profile).getByRole("table", { name: "Actions" })).toHaveTextContent(
      "s3:GetObject1,200s3:PutObject300",
    );
    expect(within(profile).getByRole("table", { name: "Countries" })).toHaveTextContent("NL1,520");
    expect(within(profile).queryByRole("table", { name: "Regions" })).not.toBeInTheDocument();
    expect(profile).toHaveTextContent("Error rate1.2 %");
    const grid = within(profile).getByRole("img", { name: /Activity by hour of the week/ });
    expect(grid).toHaveAccessibleName("Activity by hour of the week (UTC); busiest Monday 09:00.");
    expect(within(grid).getAllByTestId("hour-cell")).toHaveLength(168);
  });

  it("says when no activity was seen for the identity", async () => {
    const { api } = activityApi([]);
    api.on("GET /api/v1/alerts", () => json(200, { items: [], next_cursor: null }));
    renderConsole(<NhiActivity nhiId={NHI_ID} />, { api });

    expect(await screen.findByText("No alerts for this identity")).toBeInTheDocument();
    expect(await screen.findByText("No activity seen for this identity")).toBeInTheDocument();
  });

  it("is a tab of the identity page, kept in the URL", async () => {
    const { api } = activityApi();
    const detail = nhiDetail({ id: NHI_ID });
    api.on("GET /api/v1/nhis/([^/]+)", () => json(200, detail));
    api.on("GET /api/v1/nhis/([^/]+)/graph", () => json(200, graph(NHI_ID)));
    renderConsole(<NhiDetailPage />, { api, path: `/nhis/${NHI_ID}`, route: "/nhis/:id" });

    await user.click(await screen.findByRole("tab", { name: "Activity" }));

    expect(await screen.findByRole("region", { name: "Alert timeline" })).toBeInTheDocument();
    expect(screen.getByTestId("location").dataset.search).toBe("?tab=activity");
    await waitFor(() => expect(api.requests).toContain(`GET /api/v1/activity/nhis/${NHI_ID}/profiles`));
  });
});

describe("reading a profile defensively", () => {
  it("finds top lists under top, as top_ keys, as pairs or as maps, and skips what it does not know", () => {
    const lists = topLists({
      top: { services: [{ value: "s3", count: 3 }], actions: [["s3:GetObject", 9]], weird: [{ x: 1 }] },
      top_agents: { "aws-cli": 2, boto3: 5 },
      distinct: { actions: 1 },
    });

    expect(lists.map((list) => [list.label, list.items])).toEqual([
      ["Actions", [{ value: "s3:GetObject", count: 9 }]],
      ["Services", [{ value: "s3", count: 3 }]],
      [
        "User agents",
        [
          { value: "boto3", count: 5 },
          { value: "aws-cli", count: 2 },
        ],
      ],
    ]);
  });

  it("takes an hour-of-week histogram only when it has 168 numbers", () => {
    expect(hourOfWeek({ hour_of_week: new Array(168).fill(1) })).toHaveLength(168);
    expect(hourOfWeek({ hour_of_week: new Array(24).fill(1) })).toBeNull();
    expect(hourOfWeek({ hour_of_week: [...new Array(167).fill(1), "x"] })).toBeNull();
  });
});
