// @ts-check
// Tenant settings: bad input is refused in the form and changes nothing; a good value is saved.
import assert from "node:assert/strict";

import { assertNoPageErrors, fact, newPage, screenshot, signIn } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser);
  await page.goto("/settings/tenant");
  await signIn(page);
  await page.waitForURL("**/settings/tenant");

  await page.getByRole("button", { name: "Add setting" }).click();
  const form = page.getByRole("dialog");
  await form.getByLabel(/^Key/).fill("retention.days");
  await form.getByText("Number").click();
  await form.getByLabel("Value").fill("thirty");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByText("Enter a whole number.").waitFor();
  await screenshot(page, "tenant-setting-refused");

  await form.getByLabel("Value").fill("30");
  await form.getByRole("button", { name: "Save" }).click();
  await form.waitFor({ state: "detached" });
  const row = page.getByRole("row").filter({ hasText: "retention.days" });
  await row.getByText("30", { exact: true }).waitFor();
  await row.getByText("integer").waitFor();

  await page.getByRole("textbox", { name: "Name" }).fill("E2E tenant");
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByText("The tenant was renamed.").waitFor();
  await page.getByRole("textbox", { name: "Name" }).fill("bad/name!");
  await page.getByRole("button", { name: "Rename" }).click();
  const nameError = page.locator('[id$="-error"]').first();
  await nameError.waitFor();
  assert.ok(((await nameError.textContent()) ?? "").length > 0, "the refused name says why");
  await screenshot(page, "tenant-settings");
  fact({ setting: "retention.days", value: 30, name: "E2E tenant" });
  assertNoPageErrors(problems);
}
