import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { entry, verification } from "../test/discoveryData";
import { FakeApi, json, problem } from "../test/fakeApi";
import { renderConsole } from "../test/render";
import AuditPage from "./AuditPage";

const user = userEvent.setup({ delay: null });
const TOKEN = "rt1." + "0".repeat(32) + ".abcdefghijklmnopqrstuvwxyz";

function auditApi(result = verification()) {
  const api = new FakeApi();
  api.on("GET /api/v1/audit/entries", () =>
    json(200, {
      items: [
        entry({
          seq: 8,
          action: "auth.login_failed",
          outcome: "failure",
          payload: { email: "x@example.com", refresh_token: TOKEN },
        }),
        entry({ seq: 7 }),
      ],
      next_cursor: null,
    }),
  );
  api.on("GET /api/v1/audit/tree-heads/latest", () =>
    json(200, {
      log: "l",
      tree_size: 100,
      root_hash: "cd".repeat(32),
      timestamp: "2026-11-26T10:00:00.000000Z",
      key_id: "0123456789abcdef0123",
      signature: "c2ln",
    }),
  );
  api.on("GET /api/v1/audit/verify", () => json(200, result));
  return api;
}

describe("audit log", () => {
  it("verifies the log on demand and says what was checked", async () => {
    const api = auditApi();
    renderConsole(<AuditPage />, { api, path: "/audit" });

    await user.click(await screen.findByRole("button", { name: "Verify log" }));

    const result = await screen.findByTestId("verification-result");
    expect(within(result).getByRole("status")).toHaveTextContent("Log verified");
    expect(result).toHaveTextContent("All 120 entries match their hashes, and 3 signed tree head(s) check out");
    expect(result).toHaveTextContent("20 newer entries are not covered by a signature yet.");
  });

  it("names each problem a failed verification found", async () => {
    const api = auditApi(
      verification({
        ok: false,
        first_bad_seq: 42,
        problem_count: 1,
        problems: [{ kind: "modified", seq: 42, message: "entry 42 does not match its leaf hash" }],
      }),
    );
    renderConsole(<AuditPage />, { api, path: "/audit" });

    await user.click(await screen.findByRole("button", { name: "Verify log" }));

    const result = await screen.findByTestId("verification-result");
    expect(within(result).getByRole("alert")).toHaveTextContent("Verification failed: 1 problem(s)");
    expect(within(result).getByRole("alert")).toHaveTextContent("from entry 42 on");
    expect(within(result).getByRole("table")).toHaveTextContent("modified42entry 42 does not match its leaf hash");
  });

  it("opens an entry with its payload, never showing a token it carries", async () => {
    const api = auditApi();
    renderConsole(<AuditPage />, { api, path: "/audit" });

    await user.click(await screen.findByRole("button", { name: "auth.login_failed" }));

    const drawer = await screen.findByRole("dialog");
    expect(drawer).toHaveTextContent("Audit entry #8");
    expect(drawer).toHaveTextContent("refresh_token[redacted]");
    expect(document.body.innerHTML).not.toContain(TOKEN);
    expect(
      within(drawer).getByRole("button", { name: /Check inclusion in the signed tree of 100 entries/ }),
    ).toBeInTheDocument();
  });

  it("searches with exact fields and refuses a time range that ends before it starts", async () => {
    const api = auditApi();
    renderConsole(<AuditPage />, { api, path: "/audit" });
    const form = await screen.findByRole("form", { name: "Search the audit log" });

    await user.click(within(form).getByRole("textbox", { name: "Action" }));
    await user.paste("auth.login_failed");
    await user.click(within(form).getByRole("button", { name: "Search" }));

    await waitFor(() => expect(api.queries("/api/v1/audit/entries").at(-1)?.get("action")).toBe("auth.login_failed"));
    expect(screen.getByTestId("location").dataset.search).toBe("?action=auth.login_failed");

    const from = within(form).getByLabelText("From");
    const to = within(form).getByLabelText("To");
    await user.type(from, "2026-11-20T10:00");
    await user.type(to, "2026-11-19T10:00");
    expect(await within(form).findByText("'From' must be earlier than 'to'.")).toBeInTheDocument();
    expect(within(form).getByRole("button", { name: "Search" })).toBeDisabled();
  });

  it("explains the role it needs instead of failing", async () => {
    const api = auditApi();
    api.me.roles = ["viewer"];
    renderConsole(<AuditPage />, { api, path: "/audit" });

    expect(await screen.findByText("The audit log needs the auditor role")).toBeInTheDocument();
    expect(api.requests.filter((route) => route.includes("/audit/"))).toEqual([]);
  });

  it("shows a refusal from the server as its message", async () => {
    const api = auditApi();
    api.on("GET /api/v1/audit/verify", () =>
      problem(503, "the audit signing key cannot be unsealed with this master key"),
    );
    renderConsole(<AuditPage />, { api, path: "/audit" });

    await user.click(await screen.findByRole("button", { name: "Verify log" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The audit signing key cannot be unsealed with this master key",
    );
  });
});
