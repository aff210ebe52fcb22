// @ts-check
// Connectors: an invalid endpoint is named next to its field and nothing is sent; a private-network endpoint
// is accepted as a URL but its connection test says why it cannot connect; "Run now" shows in the history.
import assert from "node:assert/strict";

import { assertNoPageErrors, fact, screenshot, signedInPage, suffix } from "./lib.mjs";

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const { page, problems } = await signedInPage(browser, "/connectors");
  const connectors = page.getByRole("table", { name: "Connectors" });
  await connectors.getByText("demo", { exact: true }).waitFor();

  const name = `e2e-aws-${suffix()}`;
  await page.getByRole("button", { name: "Add connector" }).click();
  const form = page.getByRole("dialog");
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel(/^Endpoint URL/).fill("iam.example internal");
  await form.getByRole("button", { name: "Add connector" }).click();
  await form.getByText("Enter a full URL starting with https:// or http://").waitFor();
  await form.getByText("Fix the highlighted fields; nothing was sent.").waitFor();
  await screenshot(page, "connector-invalid-endpoint");

  await form.getByLabel(/^Endpoint URL/).fill("http://127.0.0.1:9/");
  await form.getByRole("button", { name: "Add connector" }).click();
  await form.waitFor({ state: "detached" });
  await connectors.getByText(name, { exact: true }).waitFor();

  await page.getByRole("button", { name: `Test ${name}` }).click();
  const result = page.getByRole("dialog", { name: "Connection test" });
  const alert = result.getByRole("alert");
  await alert.waitFor();
  const message = ((await alert.textContent()) ?? "").trim();
  assert.match(message, new RegExp(`^${name} could not connect`), "the test failure is shown");
  assert.doesNotMatch(message, /Traceback|Exception|\bat \w+\./, "no stack trace");
  await screenshot(page, "connector-test-failed");
  await result.getByRole("button", { name: "Close" }).click();

  await page.getByRole("button", { name: "Run demo now" }).click();
  await page.getByText("Run started").waitFor();
  const runs = page.getByRole("table", { name: "Runs" });
  await runs.locator("tbody tr").filter({ hasText: "manual" }).filter({ hasText: "succeeded" }).first().waitFor({
    timeout: 30_000,
  });
  await screenshot(page, "connector-run-history");

  fact({ name, test_message: message });
  assertNoPageErrors(problems);
}
