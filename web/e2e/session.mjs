// @ts-check
// Session renewal against the real server: a refused access token is renewed silently with exactly one
// refresh for all the page's requests, and a session revoked on the server sends the user to /login
// with the reason.
import assert from "node:assert/strict";

import { api, assertNoPageErrors, fact, newPage, screenshot, settled, signIn, storedSession } from "./lib.mjs";

/**
 * @param {import("playwright-core").Page} page
 */
async function spoilAccessToken(page) {
  await page.evaluate(() => {
    const stored = JSON.parse(window.localStorage.getItem("nexora.session") ?? "null");
    stored.accessToken = "eyJhbGciOiJFZERTQSJ9.e30.invalid";
    window.localStorage.setItem("nexora.session", JSON.stringify(stored));
  });
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);
  let refreshes = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v1/auth/refresh") refreshes += 1;
  });

  await page.goto("/login");
  await signIn(page);
  await page.waitForURL((url) => url.pathname === "/");
  // The overview starts its requests after the redirect. Spoiling the token under them would make this page
  // renew the session, and the navigation below could cut that renewal off after the server rotated the
  // token: the next page would then present a spent token and (rightly) lose the session.
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  await settled(page);
  assert.equal(refreshes, 0, "a fresh sign-in needs no renewal");
  const first = await storedSession(page);
  assert.ok(first);

  await spoilAccessToken(page);
  await page.goto("/settings/users");
  await page.getByRole("table", { name: "Users" }).waitFor();
  const second = await storedSession(page);
  assert.ok(second);
  assert.notEqual(second.refreshToken, first.refreshToken, "the refresh token rotated");
  assert.equal(refreshes, 1, "one refresh served every request the page made");

  // Presenting the spent token again is what a thief would do: the server revokes the whole session.
  const reuse = await api("/api/v1/auth/refresh", { body: { refresh_token: first.refreshToken } });
  assert.equal(reuse.status, 401);

  await settled(page);
  await spoilAccessToken(page);
  await page.getByRole("tab", { name: "API keys" }).click();
  await page.waitForURL("**/login");
  const notice = (await page.getByRole("status").textContent())?.trim();
  assert.equal(notice, "The refresh token was revoked; sign in again");
  assert.equal(await storedSession(page), null);
  assert.equal(refreshes, 2, "the revoked session was tried once, not retried");
  await screenshot(page, "session-revoked");

  await signIn(page);
  await page.waitForURL("**/settings/api-keys");
  fact({ refreshes, reuse_status: reuse.status });
  assertNoPageErrors(problems);
}
