// @ts-check
/**
 * Shared pieces of the browser end-to-end scenarios: Debian's Chromium driven by playwright-core, the
 * console's URL and credentials from the environment (set by tests/e2e), screenshots and sign-in.
 * Each scenario module exports `default async (browser) => {...}`; run.mjs runs them.
 * Scenarios print nothing secret: keys and tokens are checked in the page, never logged.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import path from "node:path";

import { chromium } from "playwright-core";

export const BASE_URL = required("NEXORA_E2E_BASE_URL");
export const EMAIL = required("NEXORA_E2E_EMAIL");
export const PASSWORD = required("NEXORA_E2E_PASSWORD");
const SCREENSHOTS = process.env.NEXORA_E2E_SCREENSHOTS ?? "test-results/e2e";
const CHROMIUM = process.env.NEXORA_E2E_CHROMIUM ?? "/usr/bin/chromium";

export const DESKTOP = { width: 1440, height: 900 };

/**
 * The scenario each piece of async work belongs to (run.mjs runs several at once): every fact and screenshot
 * line names it, and the contexts it opened are closed when it ends.
 * @type {AsyncLocalStorage<{ name: string, contexts: import("playwright-core").BrowserContext[] }>}
 */
export const scenarioScope = new AsyncLocalStorage();

function scenarioName() {
  return scenarioScope.getStore()?.name ?? "adhoc";
}
export const PHONE = { width: 390, height: 844 };

/** @param {string} name */
function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the browser tests through tests/e2e (pytest)`);
  return value;
}

/**
 * Launch Chromium (playwright gives each launch a fresh temporary profile). Scenarios share one browser
 * and isolate themselves with their own context (`newPage`).
 */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The flags that keep Debian's Chromium quiet on a machine without network access.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page in a new context; fails the scenario on any uncaught page error or a console error.
 * @param {import("playwright-core").Browser} browser
 * @param {{ viewport?: { width: number, height: number }, colorScheme?: "dark" | "light" }} [options]
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.colorScheme ?? "dark",
    baseURL: BASE_URL,
  });
  scenarioScope.getStore()?.contexts.push(context);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE_URL });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  /** @type {string[]} */
  const problems = [];
  watchApiTraffic(page);
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A 401/4xx a test provokes on purpose is logged by Chromium as a failed resource; that is expected.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return { context, page, problems };
}

/** The API requests each page has in flight, and when that set last changed (see `settled`). */
const apiTraffic = new WeakMap();

/** @param {import("playwright-core").Page} page */
function watchApiTraffic(page) {
  const traffic = { open: new Set(), changedAt: performance.now() };
  apiTraffic.set(page, traffic);
  /** @param {boolean} opened */
  const track = (opened) => (/** @type {import("playwright-core").Request} */ request) => {
    if (!new URL(request.url()).pathname.startsWith("/api/")) return;
    if (opened) traffic.open.add(request);
    else traffic.open.delete(request);
    traffic.changedAt = performance.now();
  };
  page.on("request", track(true));
  page.on("requestfinished", track(false));
  page.on("requestfailed", track(false));
}

/**
 * Wait until the page has had no API request in flight for `quietMs` (a response counts as in flight until
 * its body is read or released): what the page loads on arrival is done, so a change made now, say to the
 * stored session, is not raced by requests the page was still starting.
 * @param {import("playwright-core").Page} page
 * @param {{ quietMs?: number, timeoutMs?: number }} [options]
 */
export async function settled(page, options = {}) {
  const quietMs = options.quietMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  const traffic = apiTraffic.get(page);
  if (!traffic) throw new Error("settled() needs a page opened with newPage()");
  while (traffic.open.size > 0 || performance.now() - traffic.changedAt < quietMs) {
    if (performance.now() > deadline) {
      const open = [...traffic.open].map((request) => `${request.method()} ${new URL(request.url()).pathname}`);
      throw new Error(`API requests still in flight after ${timeoutMs} ms: ${open.join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Save a screenshot under test-results/; values marked data-secret are masked. Drawers and dialogs are best
 * seen as the viewport (`fullPage: false`).
 * @param {import("playwright-core").Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
export async function screenshot(page, name, options = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true, mask: [page.locator("[data-secret]")] });
  console.log(`screenshot ${scenarioName()}: ${file}`);
  return file;
}

/**
 * Sign in through the form (the page must show it).
 * @param {import("playwright-core").Page} page
 * @param {{ email?: string, password?: string }} [credentials]
 */
export async function signIn(page, credentials = {}) {
  await page.getByLabel("E-mail").fill(credentials.email ?? EMAIL);
  await page.getByLabel(/^Password/).fill(credentials.password ?? PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * A new page already signed in as the admin (tokens from the API, stored as the console stores them), on
 * `path`. Scenarios about sign-in itself use the form instead; the rest save its round trips.
 * @param {import("playwright-core").Browser} browser
 * @param {string} path
 * @param {{ viewport?: { width: number, height: number }, colorScheme?: "dark" | "light" }} [options]
 */
export async function signedInPage(browser, path, options = {}) {
  const opened = await newPage(browser, options);
  const response = await api("/api/v1/auth/login", { body: { email: EMAIL, password: PASSWORD } });
  assert.equal(response.status, 200, "the admin can sign in");
  const pair = await response.json();
  const stored = { accessToken: pair.access_token, refreshToken: pair.refresh_token, renewAt: Date.now() + 600_000 };
  await opened.context.addInitScript((session) => {
    if (!window.localStorage.getItem("nexora.session")) {
      window.localStorage.setItem("nexora.session", JSON.stringify(session));
    }
  }, stored);
  await opened.page.goto(path);
  return opened;
}

/**
 * The text of a file the page downloads when `trigger` runs.
 * @param {import("playwright-core").Page} page
 * @param {() => Promise<unknown>} trigger
 */
export async function downloadedText(page, trigger) {
  const [download] = await Promise.all([page.waitForEvent("download"), trigger()]);
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { name: download.suggestedFilename(), text: Buffer.concat(chunks).toString("utf8") };
}

/** Shapes of credentials that must never appear on a page (API keys, refresh tokens, JWTs, private keys). */
export const SECRET_SHAPES =
  /nxr_[0-9A-Za-z]{38}|rt1\.[0-9a-f]{32}\.[\w-]{20,}|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+|-----BEGIN [A-Z ]*PRIVATE KEY-----|gh[pousr]_[A-Za-z0-9]{36}/;

/**
 * Fail if the page's text or markup holds anything shaped like a credential.
 * @param {import("playwright-core").Page} page
 */
export async function assertNoSecrets(page) {
  const html = await page.content();
  const found = SECRET_SHAPES.exec(html);
  if (found) throw new Error("the page shows a credential-shaped value (redacted here)");
}

/**
 * The session the console keeps in localStorage (read to check rotation; never printed).
 * @param {import("playwright-core").Page} page
 * @returns {Promise<{ accessToken: string, refreshToken: string, renewAt: number } | null>}
 */
export async function storedSession(page) {
  return page.evaluate(() => JSON.parse(window.localStorage.getItem("nexora.session") ?? "null"));
}

/**
 * Count the page's session renewals from now on: `const refreshes = countRefreshes(page); ... refreshes()`.
 * @param {import("playwright-core").Page} page
 */
export function countRefreshes(page) {
  let count = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v1/auth/refresh") count += 1;
  });
  return () => count;
}

/**
 * Replace the stored access token with one the server refuses, so the next request must renew.
 * @param {import("playwright-core").Page} page
 */
export async function spoilAccessToken(page) {
  await page.evaluate(() => {
    const stored = JSON.parse(window.localStorage.getItem("nexora.session") ?? "null");
    stored.accessToken = "eyJhbGciOiJFZERTQSJ9.e30.invalid";
    window.localStorage.setItem("nexora.session", JSON.stringify(stored));
  });
}

/**
 * POST JSON to the API from Node (outside the page), e.g. to prove a revoked key no longer works.
 * @param {string} pathname
 * @param {{ method?: string, token?: string, body?: unknown }} [options]
 */
export async function api(pathname, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(new URL(pathname, BASE_URL), {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

/**
 * Fail with the page's collected errors, if any.
 * @param {string[]} problems
 */
export function assertNoPageErrors(problems) {
  if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join("\n")}`);
}

/**
 * Report a non-secret fact to the Python test, which checks it against the API.
 * @param {Record<string, unknown>} values
 */
export function fact(values) {
  console.log(`fact ${scenarioName()}: ${JSON.stringify(values)}`);
}

/**
 * A short random suffix for names a scenario creates.
 */
export function suffix() {
  return Math.random().toString(36).slice(2, 8);
}
