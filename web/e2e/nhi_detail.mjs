// @ts-check
// An identity from the inventory: its attributes, risk factors, findings and exposures (previews only), its
// relationship graph at two depths, and an owner override that the API then reports.
import assert from "node:assert/strict";

import { assertNoPageErrors, assertNoSecrets, fact, screenshot, signedInPage, suffix } from "./lib.mjs";

/**
 * The number of nodes the graph canvas draws, once the graph for `depth` is shown.
 * @param {import("playwright-core").Page} page
 * @param {number} depth
 */
async function graphAt(page, depth) {
  // The segmented control's radios are visually hidden; people click their labels.
  const radio = page.getByRole("radio", { name: String(depth), exact: true });
  await page.locator(`label[for="${await radio.getAttribute("id")}"]`).click();
  await page.waitForURL((url) => (url.searchParams.get("depth") ?? "2") === String(depth));
  await page.getByText(new RegExp(`reachable within ${depth} hops?,`)).waitFor();
  const graph = page.getByTestId("relationship-graph");
  await graph.locator("canvas").first().waitFor();
  return Number(await graph.getAttribute("data-node-count"));
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  // The riskiest access keys of the demo are exposed in code and held by users who can assume roles.
  const { page, problems } = await signedInPage(browser, "/inventory?kind=access_key&provider=aws");
  const first = page.getByRole("table", { name: "Identities" }).locator("tbody tr td:first-child a").first();
  const name = (await first.textContent()) ?? "";
  await first.click();
  await page.waitForURL("**/nhis/*");
  const id = new URL(page.url()).pathname.split("/").pop() ?? "";

  await page.getByRole("heading", { level: 1, name }).waitFor();
  const risk = page.getByRole("region", { name: "Risk score" });
  await risk.getByRole("list", { name: "Factors" }).waitFor();
  const exposures = page.getByRole("region", { name: "Secret exposures" });
  const preview = exposures.getByLabel("Redacted preview").first();
  await preview.waitFor();
  assert.match((await preview.textContent()) ?? "", /^.{1,4}….{1,4}$/, "an exposure shows only a redacted preview");
  assert.ok(
    (await page
      .getByRole("region", { name: /^Findings/ })
      .locator("tbody tr")
      .count()) > 0,
  );
  await assertNoSecrets(page);
  await screenshot(page, "nhi-detail");

  await page.getByRole("tab", { name: "Relationships" }).click();
  const nearby = await graphAt(page, 1);
  const wider = await graphAt(page, 3);
  assert.ok(nearby >= 2, `the graph draws the identity and what it reaches (${nearby})`);
  assert.ok(wider >= nearby, "a deeper blast radius reaches at least as much");
  const rows = page.getByRole("table", { name: "Identities in the blast radius" }).locator("tbody tr");
  assert.equal(await rows.count(), wider, "the table lists every node the graph draws");
  await rows
    .nth(1)
    .getByRole("button", { name: /^Highlight/ })
    .click();
  await rows
    .nth(1)
    .getByRole("button", { name: /^Highlight/, pressed: true })
    .waitFor();
  await screenshot(page, "nhi-graph");

  await page.getByRole("tab", { name: "Summary" }).click();
  const owner = `e2e-owner-${suffix()}`;
  await page.getByRole("button", { name: "Edit owner and environment" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("textbox", { name: "Owner" }).fill(owner);
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("region", { name: "Attributes" }).getByText(owner).waitFor();

  fact({ nhi_id: id, owner, nodes_depth_1: nearby, nodes_depth_3: wider });
  assertNoPageErrors(problems);
}
