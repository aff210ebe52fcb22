// @ts-check
// API keys: create one, see it once with a copy button, use it, revoke it, and see it stop working.
import assert from "node:assert/strict";

import { api, assertNoPageErrors, fact, newPage, screenshot, signIn, suffix } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);
  const name = `e2e-key-${suffix()}`;

  await page.goto("/login");
  await signIn(page);
  await page.waitForURL((url) => url.pathname === "/");
  await page.getByRole("link", { name: /^Settings/ }).click();
  await page.getByRole("tab", { name: "API keys" }).click();
  await page.waitForURL("**/settings/api-keys");

  await page.getByRole("button", { name: "Create API key" }).click();
  const form = page.getByRole("dialog");
  await form.getByLabel(/^Name/).fill(name);
  await form.getByText("30 days").click();
  await form.getByRole("button", { name: "Create key" }).click();

  const secret = form.getByLabel("New API key", { exact: true });
  await secret.waitFor();
  const key = (await secret.textContent())?.trim() ?? "";
  assert.match(key, /^nxr_[A-Za-z0-9_]{20,}$/, "the new key is shown");
  await form.getByRole("button", { name: "Copy new api key" }).click();
  await form.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, "the copy button copies the key");
  await screenshot(page, "api-key-created");

  const me = await api("/api/v1/auth/me", { token: key });
  assert.equal(me.status, 200, "the new key authenticates");
  assert.equal((await me.json()).auth_method, "api_key");

  await form.getByRole("button", { name: "I have stored the key" }).click();
  await form.waitFor({ state: "detached" });
  assert.ok(!(await page.content()).includes(key), "the key is gone from the page once the dialog closes");

  const row = page.getByRole("row").filter({ hasText: name });
  await row.waitFor();
  const prefix = (await row.getByText(/^nxr_.*…$/).textContent())?.replace("…", "") ?? "";
  assert.ok(key.startsWith(prefix), "the list shows the key's prefix only");
  await screenshot(page, "api-keys-list");

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole("dialog");
  await confirm.getByText("stops working immediately").waitFor();
  await confirm.getByRole("button", { name: "Revoke key" }).click();
  await page.getByText("API key revoked").waitFor();
  await row.getByText("revoked").waitFor();
  await screenshot(page, "api-key-revoked");

  const after = await api("/api/v1/auth/me", { token: key });
  assert.equal(after.status, 401, "a revoked key stops working");
  assert.ok(!(await page.content()).includes(key));
  fact({ key_name: name, key_prefix: prefix });
  assertNoPageErrors(problems);
}
