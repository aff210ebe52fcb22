// @ts-check
// Session renewal against the real server: a refused access token is renewed silently with exactly one
// refresh for all the page's requests, and once a thief's reuse of an old refresh token revokes the session
// on the server, the page sends the user to /login with the reason.
import assert from "node:assert/strict";

import {
  api,
  countRefreshes,
  assertNoPageErrors,
  fact,
  newPage,
  screenshot,
  settled,
  signIn,
  spoilAccessToken,
  storedSession,
} from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);
  const refreshes = countRefreshes(page);

  await page.goto("/login");
  await signIn(page);
  await page.waitForURL((url) => url.pathname === "/");
  // The overview starts its requests after the redirect; spoiling the token under them would race them.
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  await settled(page);
  assert.equal(refreshes(), 0, "a fresh sign-in needs no renewal");
  const first = await storedSession(page);
  assert.ok(first);

  await spoilAccessToken(page);
  await page.goto("/settings/users");
  await page.getByRole("table", { name: "Users" }).waitFor();
  const second = await storedSession(page);
  assert.ok(second);
  assert.notEqual(second.refreshToken, first.refreshToken, "the refresh token rotated");
  assert.equal(refreshes(), 1, "one refresh served every request the page made");

  // The page moves on: its next renewal uses (and rotates) the second token.
  await settled(page);
  await spoilAccessToken(page);
  await page.getByRole("tab", { name: "Tenant" }).click();
  await page.getByText("Tenant id").waitFor();
  await settled(page);
  assert.equal(refreshes(), 2);

  // Presenting the first token now is what a thief would do: the server revokes the whole session.
  const reuse = await api("/api/v1/auth/refresh", { body: { refresh_token: first.refreshToken } });
  assert.equal(reuse.status, 401);

  await spoilAccessToken(page);
  await page.getByRole("tab", { name: "API keys" }).click();
  await page.waitForURL("**/login");
  const notice = (await page.getByRole("status").textContent())?.trim();
  assert.equal(notice, "The refresh token was revoked; sign in again");
  assert.equal(await storedSession(page), null);
  assert.equal(refreshes(), 3, "the revoked session was tried once, not retried");
  await screenshot(page, "session-revoked");

  await signIn(page);
  await page.waitForURL("**/settings/api-keys");
  fact({ refreshes: refreshes(), reuse_status: reuse.status });
  assertNoPageErrors(problems);
}
