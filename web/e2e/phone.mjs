// @ts-check
// Phone width: the navigation collapses behind a button, pages fit the screen, and tables become cards;
// the inventory and an identity's detail and graph work at 390 px.
import assert from "node:assert/strict";

import { assertNoPageErrors, fact, newPage, PHONE, screenshot, signIn } from "./lib.mjs";

/**
 * @param {import("playwright-core").Page} page
 */
async function assertFitsWidth(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
}

/**
 * Wait until the navigation drawer is off-screen and inert (out of the tab order), or on-screen and usable.
 * @param {import("playwright-core").Page} page
 * @param {"open" | "collapsed"} state
 */
async function waitForNavigation(page, state) {
  await page.waitForFunction((wanted) => {
    const navigation = document.getElementById("primary-navigation");
    if (!navigation) return false;
    const { right, left } = navigation.getBoundingClientRect();
    const collapsed = navigation.hasAttribute("inert") && right <= 0;
    const open = !navigation.hasAttribute("inert") && left === 0;
    return wanted === "collapsed" ? collapsed : open;
  }, state);
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser, { viewport: PHONE });
  await page.goto("/login");
  await assertFitsWidth(page);
  await screenshot(page, "phone-sign-in");
  await signIn(page);
  await page.waitForURL((url) => url.pathname === "/");

  const settingsLink = page.getByRole("link", { name: /^Settings/ });
  await waitForNavigation(page, "collapsed");
  const burger = page.getByRole("button", { name: "Open navigation" });
  assert.equal(await burger.getAttribute("aria-expanded"), "false");
  await burger.click();
  await waitForNavigation(page, "open");
  await screenshot(page, "phone-navigation-open");

  await settingsLink.click();
  await page.waitForURL("**/settings/users");
  await waitForNavigation(page, "collapsed");
  const cards = page.getByRole("list", { name: "Users" });
  await cards.waitFor();
  assert.equal(await page.getByRole("table", { name: "Users" }).count(), 0, "rows are cards on a phone");
  await assertFitsWidth(page);
  await screenshot(page, "phone-settings-users");

  await page.getByRole("tab", { name: "API keys" }).click();
  await page
    .getByText("No API keys yet")
    .or(page.getByRole("list", { name: "API keys" }))
    .waitFor();
  await assertFitsWidth(page);
  await screenshot(page, "phone-settings-api-keys");

  await page.goto("/inventory");
  const identities = page.getByRole("list", { name: "Identities" });
  await identities.locator("li").first().waitFor();
  assert.equal(await page.getByRole("table", { name: "Identities" }).count(), 0, "identities are cards on a phone");
  await page.getByRole("button", { name: "Filters" }).click();
  await page.getByRole("button", { name: /^Kind: / }).waitFor();
  await assertFitsWidth(page);
  await screenshot(page, "phone-inventory");

  await identities.locator("li a").first().click();
  await page.waitForURL("**/nhis/*");
  await page.getByRole("region", { name: "Risk score" }).waitFor();
  await assertFitsWidth(page);
  await screenshot(page, "phone-nhi-detail");
  await page.getByRole("tab", { name: "Relationships" }).click();
  await page.getByTestId("relationship-graph").locator("canvas").first().waitFor();
  await assertFitsWidth(page);
  await screenshot(page, "phone-nhi-graph");
  fact({ width: PHONE.width });
  assertNoPageErrors(problems);
}
