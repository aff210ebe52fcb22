// @ts-check
// Findings: narrow to secret leakage (NHI2), open a finding and read its evidence and recommended fix.
import assert from "node:assert/strict";

import { assertNoPageErrors, assertNoSecrets, fact, screenshot, signedInPage } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await signedInPage(browser, "/findings");
  await page.getByRole("button", { name: /^NHI2 Secret leakage: \d+ open$/ }).click();
  await page.waitForURL((url) => url.searchParams.get("category") === "NHI2");
  const table = page.getByRole("table", { name: "Findings" });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("table tbody tr")];
    return rows.length > 0 && rows.every((row) => row.textContent?.includes("NHI2"));
  });

  const title = table.locator("tbody tr").first().getByRole("button");
  const text = (await title.textContent()) ?? "";
  await title.click();
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("heading", { name: text }).waitFor();
  await drawer.getByText("Recommended fix").waitFor();
  await drawer.getByText("Evidence").waitFor();
  const id = new URL(page.url()).searchParams.get("open");
  assert.match(id ?? "", /^[0-9a-f-]{36}$/, "the open finding is in the URL");
  const evidence = (await drawer.textContent()) ?? "";
  if (evidence.includes("preview"))
    assert.match(evidence, /preview.{1,4}….{1,4}/, "a leaked secret shows as a preview");
  await assertNoSecrets(page);
  await screenshot(page, "finding-detail", { fullPage: false });

  fact({ finding_id: id, title: text });
  assertNoPageErrors(problems);
}
