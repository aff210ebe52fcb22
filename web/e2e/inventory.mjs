// @ts-check
// Inventory over the demo environment: filter and sort on the server, filters saved in the URL (a reload
// keeps them), pages, and a CSV export of exactly the filtered identities.
import assert from "node:assert/strict";

import { assertNoPageErrors, assertNoSecrets, downloadedText, fact, screenshot, signedInPage } from "./lib.mjs";

/**
 * Choose `option` in the compact multiple-choice filter named `label`.
 * @param {import("playwright-core").Page} page
 * @param {string} label
 * @param {string} option
 */
async function pick(page, label, option) {
  await page.getByRole("button", { name: new RegExp(`^${label}: `) }).click();
  await page.getByRole("option", { name: new RegExp(`^${option}`) }).click();
  await page.keyboard.press("Escape");
}

/** @param {import("playwright-core").Page} page */
async function names(page) {
  const table = page.getByRole("table", { name: "Identities" });
  return table.locator("tbody tr td:first-child a").allTextContents();
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await signedInPage(browser, "/inventory");
  const table = page.getByRole("table", { name: "Identities" });
  await table.locator("tbody tr td:first-child a").first().waitFor();

  await pick(page, "Kind", "Access key");
  await page.waitForURL((url) => url.searchParams.getAll("kind").join() === "access_key");
  await pick(page, "Provider", "AWS");
  await page.waitForURL((url) => url.searchParams.getAll("provider").join() === "aws");
  const sortedList = page.waitForResponse((response) => {
    const url = new URL(response.url());
    return url.pathname === "/api/v1/nhis" && url.searchParams.get("sort") === "name";
  });
  await page.getByRole("button", { name: "Sort by identity ascending" }).click();
  await page.waitForURL((url) => url.searchParams.get("sort") === "name");
  await sortedList;
  // Until the sorted page renders, the previous rows stay on screen, dimmed and marked busy.
  await page.waitForFunction(() => {
    if (document.querySelector('[aria-busy="true"]') !== null) return false;
    const cells = [...document.querySelectorAll("table tbody tr td:first-child a + span")].map(
      (s) => s.textContent ?? "",
    );
    return cells.length > 0 && cells.every((text) => text.startsWith("Access key"));
  });

  const shown = await names(page);
  assert.ok(shown.length > 0 && shown.length <= 50, `one page of rows (${shown.length})`);
  assert.deepEqual(shown, [...shown].sort(), "rows are sorted by name");
  await screenshot(page, "inventory-filtered");

  await page.reload();
  await page.getByRole("button", { name: "Kind: Access key" }).waitFor();
  await page.getByRole("button", { name: "Provider: AWS" }).waitFor();
  await table.locator("tbody tr td:first-child a").first().waitFor();
  assert.deepEqual(await names(page), shown, "a reload shows the same filtered, sorted page");

  const hasNext = await page.getByRole("button", { name: "Next" }).isEnabled();
  if (hasNext) {
    await page.getByRole("button", { name: "Next" }).click();
    await page.waitForURL((url) => url.searchParams.has("cursor"));
    await page.waitForFunction((first) => {
      const link = document.querySelector("table tbody tr td:first-child a");
      return link !== null && link.textContent !== first;
    }, shown[0]);
    const second = await names(page);
    assert.ok((second[0] ?? "") > (shown.at(-1) ?? ""), "the next page continues the order");
    await page.getByRole("button", { name: "Previous" }).click();
    await page.waitForURL((url) => !url.searchParams.has("cursor"));
  }

  const csv = await downloadedText(page, () => page.getByRole("button", { name: "Export CSV" }).click());
  const lines = csv.text.trim().split("\n");
  const header = lines[0]?.split(",") ?? [];
  const kinds = lines.slice(1).map((line) => line.split(",")[header.indexOf("kind")]);
  assert.match(csv.name, /^nexora-identities-\d{4}-\d{2}-\d{2}\.csv$/);
  assert.ok(kinds.length >= shown.length, "the export holds every filtered identity");
  assert.ok(
    kinds.every((kind) => kind === "access_key"),
    "the export follows the filters",
  );

  await assertNoSecrets(page);
  fact({ first_page: shown, csv_rows: kinds.length, has_next: hasNext });
  assertNoPageErrors(problems);
}
