// @ts-check
// Audit: sign a tree head, verify the log and read the result, search entries, prove one entry's inclusion,
// and export the matching entries.
import assert from "node:assert/strict";

import { assertNoPageErrors, assertNoSecrets, downloadedText, fact, screenshot, signedInPage } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await signedInPage(browser, "/audit");
  await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();

  await page.getByRole("button", { name: "Sign now" }).click();
  await page.getByText("Tree head signed").waitFor();
  await page.getByRole("button", { name: "Verify log" }).click();
  const result = page.getByTestId("verification-result");
  await result.waitFor({ timeout: 30_000 });
  assert.equal(await result.getAttribute("data-ok"), "true", "the untouched log verifies");
  await result.getByRole("status").getByText("Log verified").waitFor();

  const search = page.getByRole("form", { name: "Search the audit log" });
  await search.getByRole("textbox", { name: "Action" }).fill("auth.login_succeeded");
  await search.getByRole("button", { name: "Search" }).click();
  await page.waitForURL((url) => url.searchParams.get("action") === "auth.login_succeeded");
  const table = page.getByRole("table", { name: "Audit entries" });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("table tbody tr")];
    return rows.length > 0 && rows.every((row) => row.textContent?.startsWith("auth.login_succeeded"));
  });
  await assertNoSecrets(page);
  await screenshot(page, "audit-verified");

  // The oldest sign-in on the page is older than the head signed above, so its inclusion can be proved.
  await table.locator("tbody tr").last().getByRole("button").click();
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("button", { name: /^Check inclusion/ }).click();
  await drawer.getByText("Included", { exact: true }).waitFor();
  await screenshot(page, "audit-entry", { fullPage: false });
  await page.keyboard.press("Escape");
  await drawer.waitFor({ state: "detached" });

  await page.getByRole("button", { name: "Export" }).click();
  const exported = await downloadedText(page, () =>
    page.getByRole("menuitem", { name: "Matching entries (NDJSON)" }).click(),
  );
  const entries = exported.text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  assert.ok(entries.length > 0, "the export holds the matching entries");
  assert.ok(
    entries.every((entry) => entry.action === "auth.login_succeeded"),
    "the export follows the search",
  );

  fact({ verified: true, exported: entries.length });
  assertNoPageErrors(problems);
}
