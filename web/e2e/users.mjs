// @ts-check
// Users and roles: an admin adds a user, changes their roles, and disables them; the user sees only
// what their roles allow, and a disabled account gets a readable refusal.
import assert from "node:assert/strict";

import { assertNoPageErrors, fact, newPage, screenshot, signIn, suffix } from "./lib.mjs";

/**
 * @param {import("playwright-core").Page} page
 */
async function signOut(page) {
  await page.getByRole("button", { name: /^Account/ }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);
  const email = `analyst-${suffix()}@e2e.example`;
  const password = `pw-${suffix()}-${suffix()}-${suffix()}`;

  await page.goto("/settings/users");
  await signIn(page);
  await page.waitForURL("**/settings/users");

  await page.getByRole("button", { name: "Add user" }).click();
  const form = page.getByRole("dialog");
  await form.getByLabel(/^E-mail/).fill(email);
  await form.getByLabel(/^Initial password/).fill("short");
  await form.getByRole("checkbox", { name: /^Viewer/ }).uncheck();
  await form.getByRole("checkbox", { name: /^Analyst/ }).check();
  await form.getByRole("button", { name: "Add user" }).click();
  const refusal = form.getByRole("alert");
  await refusal.waitFor();
  assert.match((await refusal.textContent()) ?? "", /The password must be at least \d+ characters long/);
  await screenshot(page, "user-password-refused");

  await form.getByLabel(/^Initial password/).fill(password);
  await form.getByRole("button", { name: "Add user" }).click();
  await form.waitFor({ state: "detached" });
  const row = page.getByRole("row").filter({ hasText: email });
  await row.getByText("analyst", { exact: true }).waitFor();

  await row.getByRole("button", { name: `Actions for ${email}` }).click();
  await page.getByRole("menuitem", { name: "Edit roles and status" }).click();
  const edit = page.getByRole("dialog");
  await edit.getByRole("checkbox", { name: /^Auditor/ }).check();
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.waitFor({ state: "detached" });
  await row.getByText("auditor", { exact: true }).waitFor();
  await screenshot(page, "users-list");

  await signOut(page);
  await signIn(page, { email, password });
  await page.waitForURL("**/settings/api-keys");
  await page.getByRole("tab", { name: "API keys", selected: true }).waitFor();
  const tabs = await page.getByRole("tab").allTextContents();
  assert.deepEqual(tabs, ["API keys", "Tenant"], "a non-admin sees no user management");
  await page.getByRole("tab", { name: "Tenant" }).click();
  await page.getByRole("textbox", { name: "Name" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Rename" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Add setting" }).count(), 0);
  await screenshot(page, "non-admin-settings");
  await signOut(page);

  await signIn(page);
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
  await page.goto("/settings/users");
  await row.getByRole("button", { name: `Actions for ${email}` }).click();
  await page.getByRole("menuitem", { name: "Edit roles and status" }).click();
  await page
    .getByRole("dialog")
    .getByRole("switch", { name: /^Active/ })
    .uncheck();
  await page.getByRole("dialog").getByRole("button", { name: "Save changes" }).click();
  await row.getByText("disabled", { exact: true }).waitFor();
  await signOut(page);

  await signIn(page, { email, password });
  const disabled = page.getByRole("alert");
  await disabled.waitFor();
  assert.equal((await disabled.textContent())?.trim(), "This account is disabled; ask a tenant administrator");
  await screenshot(page, "disabled-user-refused");
  fact({ email, roles: ["analyst", "auditor"] });
  assertNoPageErrors(problems);
}
