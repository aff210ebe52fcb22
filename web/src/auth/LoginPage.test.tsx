import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { ADMIN, FakeApi } from "../test/fakeApi";
import { renderConsole } from "../test/render";
import { LoginPage } from "./LoginPage";
import { RequireSession, safeReturnPath } from "./RequireSession";
import { MESSAGES } from "./session";

// No delay between keystrokes: the tests check behaviour, not typing speed.
const user = userEvent.setup({ delay: null });

/** Focus a field and paste `text` into it: one input event instead of one per character. */
async function fill(field: HTMLElement, text: string) {
  await user.click(field);
  await user.paste(text);
}

const protectedPage = (
  <RequireSession>
    <p>Protected content</p>
  </RequireSession>
);

describe("sign-in", () => {
  it("sends a visitor without a session to /login and back to the page after signing in", async () => {
    renderConsole(protectedPage, {
      path: "/settings/api-keys",
      route: "/settings/*",
      signedIn: false,
      routes: { "/login": <LoginPage /> },
    });

    expect(await screen.findByRole("heading", { name: "Sign in to Nexora" })).toBeInTheDocument();
    await fill(screen.getByLabelText(/^E-mail/), ADMIN.email);
    await fill(screen.getByLabelText(/^Password/), ADMIN.password);
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText("Protected content")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/settings/api-keys");
  });

  it("asks for the tenant when the e-mail has accounts in several, then signs in to the one chosen", async () => {
    const api = new FakeApi();
    api.loginTenants = [
      { id: "0193-a", name: "acme" },
      { id: "0193-b", name: "globex" },
    ];
    renderConsole(protectedPage, {
      api,
      path: "/inventory",
      route: "/inventory",
      signedIn: false,
      routes: { "/login": <LoginPage /> },
    });

    await fill(await screen.findByLabelText(/^E-mail/), ADMIN.email);
    await fill(screen.getByLabelText(/^Password/), ADMIN.password);
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/account in several tenants/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sign in" })).toBeDisabled();

    await user.click(screen.getByRole("textbox", { name: /^Tenant/ }));
    await user.click(await screen.findByRole("option", { name: "globex" }));
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText("Protected content")).toBeInTheDocument();
    expect(api.requests.filter((route) => route === "POST /api/v1/auth/login")).toHaveLength(2);
  });

  it("shows the server's reason for a refused sign-in", async () => {
    renderConsole(<LoginPage />, { path: "/login", signedIn: false });

    await fill(screen.getByLabelText(/^E-mail/), ADMIN.email);
    await fill(screen.getByLabelText(/^Password/), "wrong-password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    const message = await screen.findByText("The e-mail or password is wrong");
    expect(message.closest('[role="alert"]')).not.toBeNull();
  });

  it("returns to /login with a message when the session ends on the server", async () => {
    const api = new FakeApi();
    const { session } = renderConsole(protectedPage, {
      api,
      path: "/inventory",
      route: "/inventory",
      routes: { "/login": <LoginPage /> },
    });
    expect(await screen.findByText("Protected content")).toBeInTheDocument();

    api.expireAccessTokens();
    await api.fetch(
      new Request("http://console.test/api/v1/auth/logout", {
        method: "POST",
        body: JSON.stringify({ refresh_token: "refresh-1" }),
      }),
    );
    await session.fetch(new Request("http://console.test/api/v1/auth/me")).catch(() => undefined);

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/login"));
    expect(screen.getByRole("status")).toHaveTextContent("The refresh token was revoked; sign in again");
  });

  it("says so after signing out", async () => {
    const { session } = renderConsole(protectedPage, {
      path: "/settings",
      route: "/settings",
      routes: { "/login": <LoginPage /> },
    });
    expect(await screen.findByText("Protected content")).toBeInTheDocument();

    await session.signOut();

    expect(await screen.findByRole("status")).toHaveTextContent(MESSAGES.signedOut);
  });
});

describe("the return path after sign-in", () => {
  it.each([
    ["/settings/users?x=1", "/settings/users?x=1"],
    ["//evil.example/path", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example", "/"],
    ["/login", "/"],
    [undefined, "/"],
    [42, "/"],
  ])("%s becomes %s", (from, expected) => {
    expect(safeReturnPath(from)).toBe(expected);
  });
});
