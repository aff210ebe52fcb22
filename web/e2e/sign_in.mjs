// @ts-check
// Sign-in: a deep link needs a session, refused credentials read well, a reload keeps the session,
// and signing out ends it on the server too.
import assert from "node:assert/strict";

import { api, assertNoPageErrors, fact, newPage, screenshot, signIn, storedSession } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);

  await page.goto("/settings/api-keys");
  await page.waitForURL("**/login");
  await page.getByRole("heading", { name: "Sign in to Nexora" }).waitFor();

  await signIn(page, { password: "certainly-not-the-password" });
  const refusal = page.getByRole("alert");
  await refusal.waitFor();
  assert.equal((await refusal.textContent())?.trim(), "The e-mail or password is wrong");
  await screenshot(page, "sign-in-refused");

  await signIn(page);
  await page.waitForURL("**/settings/api-keys");
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await page.getByRole("tab", { name: "API keys", selected: true }).waitFor();

  await page.reload();
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  assert.match(page.url(), /\/settings\/api-keys$/);
  await screenshot(page, "signed-in-after-reload");

  const before = await storedSession(page);
  assert.ok(before, "the session is stored for reloads");
  await page.getByRole("button", { name: /^Account/ }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
  assert.equal((await page.getByRole("status").textContent())?.trim(), "You have signed out.");
  assert.equal(await storedSession(page), null);
  await screenshot(page, "signed-out");

  await page.goto("/settings");
  await page.waitForURL("**/login");

  const refresh = await api("/api/v1/auth/refresh", { body: { refresh_token: before.refreshToken } });
  fact({ refresh_after_sign_out: refresh.status });
  assertNoPageErrors(problems);
}
