import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { connector } from "../../test/discoveryData";
import { FakeApi, json, problem } from "../../test/fakeApi";
import { renderConsole } from "../../test/render";
import ConnectorsPage from "./ConnectorsPage";

const user = userEvent.setup({ delay: null });
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

function connectorsApi() {
  const api = new FakeApi();
  const connectors = [connector({ name: "aws-prod", last_status: "partial", last_run_at: "2026-11-26T00:00:00Z" })];
  const created: Record<string, unknown>[] = [];
  api.on("GET /api/v1/connectors", () => json(200, { items: connectors, next_cursor: null }));
  api.on("GET /api/v1/runs", () =>
    json(200, {
      items: [
        {
          id: "00000000-0000-4000-8000-0000000000r1",
          connector_id: connectors[0]!.id,
          trigger: "schedule",
          status: "partial",
          stage: "done",
          started_at: "2026-11-26T00:00:00Z",
          finished_at: "2026-11-26T00:00:02Z",
          duration_ms: 2100,
          counts: { seen: 40, discovered: 2 },
          errors: [{ scope: "iam:eu-west-3", message: "AccessDenied: not authorized to perform iam:ListUsers" }],
          is_baseline: false,
        },
      ],
      next_cursor: null,
    }),
  );
  api.on("POST /api/v1/connectors", async (request) => {
    const body = (await request.json()) as Record<string, unknown>;
    created.push(body);
    if (body.name === "taken") return problem(409, "a connector named 'taken' already exists");
    if ((body.config as { region?: string }).region === "ap-mars-9") {
      return problem(422, "invalid aws connector config: region: the region is not enabled for this account");
    }
    const added = connector({ name: String(body.name), kind: String(body.kind), has_credentials: !!body.credentials });
    connectors.push(added);
    return json(201, added);
  });
  api.on("POST /api/v1/connectors/([^/]+)/test", () =>
    json(200, {
      ok: false,
      message: "the address 127.0.0.1 is in a private network; allow it in NEXORA_DISCOVERY_ALLOWED_NETWORKS",
    }),
  );
  return { api, created };
}

async function openForm() {
  await user.click(await screen.findByRole("button", { name: "Add connector" }));
  return screen.findByRole("dialog");
}

async function fill(dialog: HTMLElement, label: RegExp, text: string) {
  const field = within(dialog).getByLabelText(label);
  await user.clear(field);
  await user.click(field);
  await user.paste(text);
}

describe("connectors", () => {
  it("lists connectors and their run history with the errors that made a run partial", async () => {
    const { api } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });

    const runs = await screen.findByRole("table", { name: "Runs" });
    expect(await within(runs).findByText(/not authorized to perform iam:ListUsers/)).toBeInTheDocument();
    expect(within(runs).getByText("iam:eu-west-3:")).toBeInTheDocument();
    expect(within(runs).getByText("40 seen · 2 new")).toBeInTheDocument();
  });

  it("names an invalid endpoint next to its field and sends nothing", async () => {
    const { api, created } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });
    const dialog = await openForm();

    await fill(dialog, /^Name/, "aws-staging");
    await fill(dialog, /^Endpoint URL/, "not a url");
    await user.click(within(dialog).getByRole("button", { name: "Add connector" }));

    expect(await within(dialog).findByText("Enter a full URL starting with https:// or http://")).toBeInTheDocument();
    expect(within(dialog).getByRole("alert")).toHaveTextContent("Fix the highlighted fields; nothing was sent.");
    expect(created).toEqual([]);
  });

  it("sends settings and credentials apart, and shows what the server still refuses", async () => {
    const { api, created } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });
    const dialog = await openForm();

    await fill(dialog, /^Name/, "aws-mars");
    await fill(dialog, /^Region/, "ap-mars-9");
    await fill(dialog, /^Access key ID/, "AKIAIOSFODNN7EXAMPLE");
    await fill(dialog, /^Secret access key/, SECRET);
    await user.click(within(dialog).getByRole("button", { name: "Add connector" }));

    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "Invalid aws connector config: region: the region is not enabled for this account",
    );
    expect(created).toEqual([
      {
        name: "aws-mars",
        kind: "aws",
        config: { region: "ap-mars-9" },
        credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: SECRET },
        interval_seconds: null,
        enabled: true,
      },
    ]);
    expect(document.body.textContent).not.toContain(SECRET);
  });

  it("shows a name conflict on the name field", async () => {
    const { api } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });
    const dialog = await openForm();

    await fill(dialog, /^Name/, "taken");
    await user.click(within(dialog).getByRole("button", { name: "Add connector" }));

    expect(await within(dialog).findByText("A connector named 'taken' already exists")).toBeInTheDocument();
  });

  it("adds a connector, closes the form and forgets the credentials typed into it", async () => {
    const { api } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });
    let dialog = await openForm();
    await user.click(within(dialog).getByRole("textbox", { name: "Provider" }));
    await user.click(await screen.findByRole("option", { name: "GitHub" }));
    await fill(dialog, /^Name/, "github-acme");
    await fill(dialog, /^Organisation/, "acme");
    await fill(dialog, /^Token/, "ghp_" + "t".repeat(36));

    await user.click(within(dialog).getByRole("button", { name: "Add connector" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    const table = screen.getByRole("table", { name: "Connectors" });
    expect(await within(table).findByText("github-acme")).toBeInTheDocument();
    dialog = await openForm();
    expect(within(dialog).getByLabelText(/^Name/)).toHaveValue("");
    expect(document.body.innerHTML).not.toContain("t".repeat(36));
  });

  it("shows why a connection test failed", async () => {
    const { api } = connectorsApi();
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });

    await user.click(await screen.findByRole("button", { name: "Test aws-prod" }));

    const result = await screen.findByRole("dialog");
    expect(within(result).getByRole("alert")).toHaveTextContent("aws-prod could not connect");
    expect(within(result).getByRole("alert")).toHaveTextContent("is in a private network");
  });

  it("offers no changes to someone who is not an admin", async () => {
    const { api } = connectorsApi();
    api.me.roles = ["analyst"];
    renderConsole(<ConnectorsPage />, { api, path: "/connectors" });

    await within(await screen.findByRole("table", { name: "Connectors" })).findByText("aws-prod");
    await waitFor(() => expect(api.requests).toContain("GET /api/v1/auth/me"));
    expect(screen.queryByRole("button", { name: "Add connector" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Test aws-prod" })).not.toBeInTheDocument();
  });
});
