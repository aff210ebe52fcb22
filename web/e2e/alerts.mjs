// @ts-check
// Alerts: a CloudTrail file in which a demo access key creates a key for another user is sent to the API;
// the alert shows on the overview and the Alerts page, opens with its ATT&CK mapping and its evidence
// pretty-printed (the secret in the record redacted), is acknowledged in bulk, and appears on the key's
// Activity tab with its behaviour profile.
import assert from "node:assert/strict";

import {
  EMAIL,
  PASSWORD,
  api,
  assertNoPageErrors,
  assertNoSecrets,
  fact,
  screenshot,
  signedInPage,
  suffix,
} from "./lib.mjs";

/** @param {string} token @param {string} pathname */
async function get(token, pathname) {
  const response = await api(pathname, { token });
  assert.equal(response.status, 200, `GET ${pathname}`);
  return response.json();
}

/** @param {Date} at */
function iso(at) {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * @param {{ name: string, external_id: string, account: string }} key
 * @param {string} name
 * @param {Date} at
 * @param {object} [extra]
 */
function record(key, name, at, extra = {}) {
  const user = key.name.split("/")[0];
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: `AIDA${key.external_id.slice(4)}`,
      arn: `arn:aws:iam::${key.account}:user/${user}`,
      accountId: key.account,
      accessKeyId: key.external_id,
      userName: user,
    },
    eventTime: iso(at),
    eventSource: "iam.amazonaws.com",
    eventName: name,
    awsRegion: "us-east-1",
    sourceIPAddress: "198.51.100.23",
    userAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1",
    requestParameters: null,
    responseElements: null,
    eventID: crypto.randomUUID(),
    eventType: "AwsApiCall",
    recipientAccountId: key.account,
    ...extra,
  };
}

/** @param {import("playwright-core").Browser} browser */
export default async function scenario(browser) {
  const login = await api("/api/v1/auth/login", { body: { email: EMAIL, password: PASSWORD } });
  const token = (await login.json()).access_token;
  const keys = await get(token, "/api/v1/nhis?kind=access_key&limit=1");
  const key = keys.items[0];
  const victim = `e2e-victim-${suffix()}`;
  const now = Date.now();
  const attack = record(key, "CreateAccessKey", new Date(now - 60_000), {
    requestParameters: { userName: victim },
    responseElements: {
      accessKey: {
        accessKeyId: "AKIAE2EEXAMPLEKEY001",
        secretAccessKey: "e2e/Secret/Value/That/Must/Not/Show/0000",
        userName: victim,
      },
    },
  });
  const routine = Array.from({ length: 12 }, (_, i) =>
    record(key, "ListUsers", new Date(now - 3_600_000 + i * 120_000)),
  );
  const sent = await api("/api/v1/activity/batches?source=cloudtrail&name=e2e.json", {
    token,
    body: { Records: [...routine, attack] },
  });
  assert.equal(sent.status, 201, "the CloudTrail file is accepted");
  const summary = await sent.json();
  assert.equal(summary.accepted, 13);

  const { page, problems } = await signedInPage(browser, "/");
  await page.getByRole("link", { name: /^Active alerts: \d+/ }).waitFor();
  await page
    .getByRole("link", { name: /^Alerts/ })
    .first()
    .click();
  await page.getByRole("heading", { level: 1, name: "Alerts" }).waitFor();
  const table = page.getByRole("table", { name: "Alerts" });
  const row = table.locator("tbody tr", { hasText: victim });
  await row.waitFor();
  const alertId = await row.getAttribute("data-row-key");
  assert.match(alertId ?? "", /^[0-9a-f-]{36}$/);
  await screenshot(page, "alerts-list");

  await row.getByRole("button").first().click();
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("region", { name: "MITRE ATT&CK" }).getByText("T1098.001").first().waitFor();
  const raw = drawer.getByTestId("raw-record");
  await raw.first().waitFor();
  const printed = (await raw.allTextContents()).join("\n");
  assert.ok(printed.includes(`"userName": "${victim}"`), "the raw record is pretty-printed");
  assert.ok(!printed.includes("e2e/Secret/Value"), "the secret in the record is redacted");
  await assertNoSecrets(page);
  await screenshot(page, "alert-detail", { fullPage: false });
  await page.keyboard.press("Escape");

  await row.getByRole("checkbox").check();
  await page
    .getByRole("region", { name: "Selected alerts" })
    .getByRole("button", { name: "Acknowledge selected" })
    .click();
  await page
    .getByText(/alert(\(s\)|s?) acknowledged/)
    .first()
    .waitFor();

  await page.goto(`/nhis/${key.id}?tab=activity`);
  const timeline = page.getByRole("region", { name: "Alert timeline" });
  await timeline.getByRole("link").first().waitFor();
  await page.getByTestId("hour-of-week").waitFor();
  await screenshot(page, "nhi-activity");

  fact({ alert_id: alertId, key_id: key.id, victim });
  assertNoPageErrors(problems);
}
