// @ts-check
// A reload that cuts a renewal off after the server rotated the token: the reloaded page holds only the
// spent token, and the server takes its replay within the grace as a lost answer and sends the same successor
// again (an idempotent retry), so the user stays signed in and the family keeps one live refresh token.
import assert from "node:assert/strict";

import {
  countRefreshes,
  assertNoPageErrors,
  fact,
  settled,
  signedInPage,
  spoilAccessToken,
  storedSession,
} from "./lib.mjs";

const REFRESH = "**/api/v1/auth/refresh";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await signedInPage(browser, "/settings/users");
  await page.getByRole("table", { name: "Users" }).waitFor();
  await settled(page);
  const before = await storedSession(page);
  assert.ok(before);

  /** @type {(value: { status: number, refreshToken: string }) => void} */
  let rotated = () => undefined;
  const lost = new Promise((resolve) => {
    rotated = resolve;
  });
  await page.route(REFRESH, async (route) => {
    const response = await route.fetch(); // the server rotates the token here...
    rotated({ status: response.status(), refreshToken: (await response.json()).refresh_token });
    // ...and the page never hears of it: the reload below cuts the renewal off, as a user's reload would.
  });
  await spoilAccessToken(page);
  await page.getByRole("tab", { name: "API keys" }).click();
  const cutOff = await lost;
  assert.equal(cutOff.status, 200);
  assert.notEqual(cutOff.refreshToken, before.refreshToken);

  // New renewals from here on: the reloaded page replays the spent token once, unless the cut-off request,
  // released by the unroute, reached the server again and answered the page before the reload (under load it
  // can): then none is needed. Either way the page ends with the same successor, never a second rotation.
  const refreshes = countRefreshes(page);
  await page.unroute(REFRESH);
  await page.reload();
  await page.getByRole("table", { name: "API keys" }).waitFor();
  assert.match(page.url(), /\/settings\/api-keys$/, "still signed in, on the same page");
  await settled(page);
  const after = await storedSession(page);
  assert.ok(after);
  const sameSuccessor = after.refreshToken === cutOff.refreshToken;
  assert.ok(sameSuccessor, "the replay got the successor the cut-off answer carried");
  assert.ok(refreshes() <= 1, `at most one renewal after the cut-off, saw ${refreshes()}`);

  await page.getByRole("tab", { name: "Users and roles" }).click();
  await page.getByRole("table", { name: "Users" }).waitFor();
  assert.match(page.url(), /\/settings\/users$/, "the session goes on");

  fact({ lost_rotation: cutOff.status, refreshes_after_reload: refreshes(), same_successor: sameSuccessor });
  assertNoPageErrors(problems);
}
