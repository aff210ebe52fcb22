import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { FakeApi } from "../../test/fakeApi";
import { renderConsole } from "../../test/render";
import ApiKeysPanel from "./ApiKeysPanel";

// No delay between keystrokes: the tests check behaviour, not typing speed.
const user = userEvent.setup({ delay: null });

/** Focus a field and paste `text` into it: one input event instead of one per character. */
async function fill(field: HTMLElement, text: string) {
  await user.click(field);
  await user.paste(text);
}

async function createKey(name: string) {
  await user.click(await screen.findByRole("button", { name: "Create API key" }));
  const dialog = await screen.findByRole("dialog");
  await fill(within(dialog).getByLabelText(/^Name/), name);
  await user.click(within(dialog).getByRole("button", { name: "Create key" }));
  return dialog;
}

describe("API keys", () => {
  it("shows an empty state when there are no keys", async () => {
    renderConsole(<ApiKeysPanel />);

    expect(await screen.findByText("No API keys yet")).toBeInTheDocument();
  });

  it("shows a created key once, with a copy button, and forgets it when the dialog closes", async () => {
    const api = new FakeApi();
    renderConsole(<ApiKeysPanel />, { api });

    const dialog = await createKey("ci-deploy");

    const secret = await within(dialog).findByLabelText("New API key");
    const key = secret.textContent ?? "";
    expect(key).toMatch(/^nxr_k\d+_secretvalue/);
    expect(within(dialog).getByRole("button", { name: "Copy new api key" })).toBeInTheDocument();

    await user.click(within(dialog).getByRole("button", { name: "I have stored the key" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    const table = await screen.findByRole("table", { name: "API keys" });
    expect(await within(table).findByText("ci-deploy")).toBeInTheDocument();
    expect(document.body.textContent).not.toContain(key);
    expect(document.body.innerHTML).not.toContain(key);
  });

  it("copies the key to the clipboard", async () => {
    renderConsole(<ApiKeysPanel />);
    await user.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await fill(within(dialog).getByLabelText(/^Name/), "siem-export");
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));
    const key = (await within(dialog).findByLabelText("New API key")).textContent ?? "";

    await user.click(within(dialog).getByRole("button", { name: "Copy new api key" }));

    expect(await navigator.clipboard.readText()).toBe(key);
    expect(await within(dialog).findByRole("button", { name: "Copied" })).toBeInTheDocument();
  });

  it("does not submit a name made only of spaces", async () => {
    renderConsole(<ApiKeysPanel />);
    await user.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");

    await fill(within(dialog).getByLabelText(/^Name/), "   ");

    expect(within(dialog).getByRole("button", { name: "Create key" })).toBeDisabled();
  });

  it("revokes a key after confirmation", async () => {
    const api = new FakeApi();
    renderConsole(<ApiKeysPanel />, { api });
    await createKey("old-job");
    await user.click(await screen.findByRole("button", { name: "I have stored the key" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());

    await user.click(await screen.findByRole("button", { name: "Revoke old-job" }));
    const confirm = await screen.findByRole("dialog");
    expect(confirm).toHaveTextContent("Anything using it stops working immediately");
    await user.click(within(confirm).getByRole("button", { name: "Revoke key" }));

    await waitFor(() => expect(api.apiKeys[0]?.revoked_at).not.toBeNull());
    const table = screen.getByRole("table", { name: "API keys" });
    expect(await within(table).findByText("revoked")).toBeInTheDocument();
    expect(within(table).queryByRole("button", { name: "Revoke old-job" })).not.toBeInTheDocument();
  });
});
