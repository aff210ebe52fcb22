import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { FakeApi, json, problem } from "../../test/fakeApi";
import { graph, nhiDetail } from "../../test/discoveryData";
import { renderConsole } from "../../test/render";
import NhiDetailPage from "./NhiDetailPage";

const user = userEvent.setup({ delay: null });
const LEAKED = "ghp_" + "Z".repeat(36);
const NEXORA_KEY = "nxr_" + "k".repeat(38);

function detailApi(overrides: Parameters<typeof nhiDetail>[0] = {}) {
  const detail = nhiDetail(overrides);
  const api = new FakeApi();
  const patches: unknown[] = [];
  api.on("GET /api/v1/nhis/([^/]+)", (_request, _url, match) =>
    match[1] === detail.id ? json(200, detail) : problem(404, "NHI not found"),
  );
  api.on("GET /api/v1/nhis/([^/]+)/graph", (_request, url) =>
    json(
      200,
      graph(detail.id, {
        depth: Number(url.searchParams.get("depth")),
        exposures: [
          {
            relationship: "exposed_in",
            id: "00000000-0000-4000-8000-00000000e001",
            kind: "leaked_secret",
            name: "acme/app/config.py:12",
            location: "acme/app/config.py",
            preview: "AKIA…MPLE",
          },
        ],
      }),
    ),
  );
  api.on("PATCH /api/v1/nhis/([^/]+)", async (request) => {
    const body = (await request.json()) as { owner?: string | null };
    patches.push(body);
    Object.assign(detail, { owner: body.owner ?? detail.owner, owner_source: body.owner ? "override" : "tag" });
    return json(200, detail);
  });
  return { api, detail, patches };
}

function renderDetail(api: FakeApi, id: string, search = "") {
  return renderConsole(<NhiDetailPage />, { api, path: `/nhis/${id}${search}`, route: "/nhis/:id" });
}

describe("identity detail", () => {
  it("shows attributes, the risk score with its factors, findings and exposures as previews", async () => {
    const { api, detail } = detailApi();
    renderDetail(api, detail.id);

    expect(await screen.findByRole("heading", { level: 1, name: detail.name })).toBeInTheDocument();
    const risk = screen.getByRole("region", { name: "Risk score" });
    expect(within(risk).getByText("80")).toBeInTheDocument();
    expect(within(risk).getByRole("list", { name: "Factors" })).toHaveTextContent(
      "NHI7Rotation key age+25Privilege: high+10Environment: prod×1.25",
    );
    expect(screen.getByRole("region", { name: /Findings \(1 open\)/ })).toHaveTextContent(
      "Not rotated for 400 days (limit 90)",
    );
    const exposures = screen.getByRole("region", { name: "Secret exposures" });
    expect(await within(exposures).findByLabelText("Redacted preview")).toHaveTextContent("AKIA…MPLE");
  });

  it("never renders a credential found in provider attributes", async () => {
    const { api, detail } = detailApi({
      attributes: { token: LEAKED, note: `rotated from ${NEXORA_KEY}`, path: "/" },
    });
    renderDetail(api, detail.id, "?tab=raw");

    const attributes = await screen.findByRole("region", { name: "Provider attributes" });
    expect(attributes).toHaveTextContent("token[redacted]");
    expect(attributes).toHaveTextContent("rotated from nxr_…kkkk");
    expect(document.body.innerHTML).not.toContain(LEAKED);
    expect(document.body.innerHTML).not.toContain(NEXORA_KEY);
  });

  it("lets an analyst set the owner, sending only what changed", async () => {
    const { api, detail, patches } = detailApi({ owner: null, owner_source: null });
    renderDetail(api, detail.id);

    await user.click(await screen.findByRole("button", { name: "Edit owner and environment" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("textbox", { name: "Owner" }));
    await user.paste("identity-team");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));

    await waitFor(() => expect(patches).toEqual([{ owner: "identity-team" }]));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(await screen.findByText("(set by a person)")).toBeInTheDocument();
  });

  it("offers no editing to a viewer", async () => {
    const { api, detail } = detailApi();
    api.me.roles = ["viewer"];
    renderDetail(api, detail.id);

    await screen.findByRole("heading", { level: 1, name: detail.name });
    await waitFor(() => expect(api.requests).toContain("GET /api/v1/auth/me"));
    expect(screen.queryByRole("button", { name: "Edit owner and environment" })).not.toBeInTheDocument();
  });

  it("draws the blast radius at the chosen depth with an accessible list of the same identities", async () => {
    const { api, detail } = detailApi();
    renderDetail(api, detail.id, "?tab=graph");

    const list = await screen.findByRole("table", { name: "Identities in the blast radius" });
    expect(within(list).getByText("billing-admin")).toBeInTheDocument();
    expect(within(list).getByText("holds the credential")).toBeInTheDocument();
    expect(api.queries(`/api/v1/nhis/${detail.id}/graph`).map((query) => query.get("depth"))).toContain("2");

    await user.click(screen.getByRole("radio", { name: "4" }));

    await waitFor(() =>
      expect(api.queries(`/api/v1/nhis/${detail.id}/graph`).map((query) => query.get("depth"))).toContain("4"),
    );
    expect(screen.getByTestId("location").dataset.search).toContain("depth=4");
  });

  it("says plainly when the identity does not exist", async () => {
    const { api } = detailApi();
    renderDetail(api, "00000000-0000-4000-8000-00000000beef");

    expect(await screen.findByRole("heading", { name: "Identity not found" })).toBeInTheDocument();
  });

  it("does not call the API for an address that is not an identity id", async () => {
    const { api } = detailApi();
    renderDetail(api, "..%2F..%2Fadmin");

    expect(await screen.findByRole("heading", { name: "Identity not found" })).toBeInTheDocument();
    expect(api.requests.filter((route) => route.includes("/nhis/"))).toEqual([]);
  });
});
