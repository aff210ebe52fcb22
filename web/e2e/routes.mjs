// @ts-check
// Every client route loads from a deep link inside the shell (an unknown identity or page says so); the
// keyboard reaches everything; the theme switches and persists.
import assert from "node:assert/strict";

import { assertNoPageErrors, fact, newPage, screenshot, signIn } from "./lib.mjs";

const ROUTES = [
  ["/", "Overview"],
  ["/inventory", "Inventory"],
  ["/nhis/5b0f7a9e-2f57-4c1e-9a53-1f0cbb3b2d11", "Identity not found"],
  ["/findings", "Findings"],
  ["/connectors", "Connectors"],
  ["/alerts", "Alerts"],
  ["/audit", "Audit log"],
  ["/settings", "Settings"],
  ["/no-such-page", "Page not found"],
];

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await newPage(browser, { colorScheme: "dark" });
  await page.goto("/login");
  await signIn(page);
  await page.waitForURL((url) => url.pathname === "/");

  for (const [route, heading] of ROUTES) {
    const response = await page.goto(String(route));
    assert.equal(response?.status(), 200, `${route} loads the app`);
    await page.getByRole("heading", { level: 1, name: String(heading) }).waitFor();
  }
  await page.goto("/inventory");
  await page.getByRole("heading", { level: 1, name: "Inventory" }).waitFor();
  const current = page.getByRole("link", { name: /^Inventory/ });
  assert.equal(await current.getAttribute("aria-current"), "page", "the navigation marks the current page");
  await screenshot(page, "route-inventory");

  await page.goto("/");
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main");

  await page.getByRole("link", { name: /^Settings/ }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL("**/settings/users");
  await page.getByRole("tab", { name: "Tenant" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL("**/settings/tenant");

  await page.getByRole("button", { name: "Switch to light theme" }).click();
  assert.equal(await page.locator("html").getAttribute("data-mantine-color-scheme"), "light");
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
  assert.equal(await page.locator("html").getAttribute("data-mantine-color-scheme"), "light");
  await screenshot(page, "settings-tenant-light");

  fact({ routes: ROUTES.length });
  assertNoPageErrors(problems);
}
