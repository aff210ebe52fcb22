// @ts-check
/**
 * Time to interactive of console pages in headless Chromium, for benchmarks/web_bench.py (not a test).
 *
 * For each target page and run, a fresh browser context (empty HTTP cache: a first visit) loads the page
 * with a signed-in session and measures, from navigation start:
 *   - ready: the page's first data rendered (a user-timing mark the page sets, or its first table row);
 *   - interactive: the later of `ready` and the end of the last long task (> 50 ms) within 1 s after it,
 *     i.e. when the page has its data and the main thread is free to answer input;
 * then reloads in the same context (warm HTTP cache) and measures again.
 *
 * Input (environment): NEXORA_BENCH_BASE_URL, NEXORA_BENCH_EMAIL, NEXORA_BENCH_PASSWORD, NEXORA_BENCH_RUNS,
 * NEXORA_BENCH_TARGETS (JSON list of {name, path, mark?, selector?}), NEXORA_E2E_CHROMIUM (optional).
 * Output: one JSON line per measurement on stdout.
 */
import { chromium } from "playwright-core";

const BASE_URL = process.env.NEXORA_BENCH_BASE_URL ?? "";
const RUNS = Number(process.env.NEXORA_BENCH_RUNS ?? "5");
/** @type {{ name: string, path: string, mark?: string, selector?: string }[]} */
const TARGETS = JSON.parse(process.env.NEXORA_BENCH_TARGETS ?? "[]");
const QUIET_MS = 1000;

async function signIn() {
  const response = await fetch(new URL("/api/v1/auth/login", BASE_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: process.env.NEXORA_BENCH_EMAIL, password: process.env.NEXORA_BENCH_PASSWORD }),
  });
  if (!response.ok) throw new Error(`sign-in failed with status ${response.status}`);
  const pair = await response.json();
  return { accessToken: pair.access_token, refreshToken: pair.refresh_token, renewAt: Date.now() + 10 * 60_000 };
}

/** Collects long tasks from the very start of the page (before any script of the page runs). */
function observeLongTasks() {
  const tasks = /** @type {{ start: number, end: number }[]} */ ([]);
  Object.defineProperty(window, "__longTasks", { value: tasks });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      tasks.push({ start: entry.startTime, end: entry.startTime + entry.duration });
  }).observe({ type: "longtask", buffered: true });
}

/**
 * @param {import("playwright-core").Page} page
 * @param {{ name: string, path: string, mark?: string, selector?: string }} target
 * @param {boolean} reload
 */
async function measure(page, target, reload) {
  if (reload) await page.reload({ waitUntil: "commit" });
  else await page.goto(target.path, { waitUntil: "commit" });
  const ready = await page.waitForFunction(
    ({ mark, selector }) => {
      if (mark) return performance.getEntriesByName(mark)[0]?.startTime ?? false;
      return selector && document.querySelector(selector) ? performance.now() : false;
    },
    { mark: target.mark, selector: target.selector },
    { timeout: 30_000, polling: "raf" },
  );
  const readyAt = Number(await ready.jsonValue());
  await page.waitForTimeout(QUIET_MS);
  return page.evaluate(
    ({ readyAt, quiet }) => {
      const tasks = /** @type {{ start: number, end: number }[]} */ (/** @type {any} */ (window).__longTasks ?? []);
      const blocking = tasks.filter((task) => task.start < readyAt + quiet).map((task) => task.end);
      const navigation = /** @type {PerformanceNavigationTiming | undefined} */ (
        performance.getEntriesByType("navigation")[0]
      );
      const scripts = performance
        .getEntriesByType("resource")
        .filter((entry) => entry.name.endsWith(".js"))
        .map((entry) => /** @type {PerformanceResourceTiming} */ (entry));
      return {
        ready_ms: Math.round(readyAt),
        interactive_ms: Math.round(Math.max(readyAt, ...blocking)),
        dom_content_loaded_ms: Math.round(navigation?.domContentLoadedEventEnd ?? 0),
        long_tasks: tasks.length,
        js_transferred_kb: Math.round(scripts.reduce((sum, entry) => sum + entry.transferSize, 0) / 102.4) / 10,
      };
    },
    { readyAt, quiet: QUIET_MS },
  );
}

const browser = await chromium.launch({
  executablePath: process.env.NEXORA_E2E_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
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
try {
  const session = await signIn();
  for (const target of TARGETS) {
    for (let run = 0; run < RUNS; run += 1) {
      const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1440, height: 900 } });
      await context.addInitScript((stored) => {
        window.localStorage.setItem("nexora.session", JSON.stringify(stored));
      }, session);
      await context.addInitScript(observeLongTasks);
      const page = await context.newPage();
      const cold = await measure(page, target, false);
      console.log(JSON.stringify({ target: target.name, cache: "cold", run, ...cold }));
      const warm = await measure(page, target, true);
      console.log(JSON.stringify({ target: target.name, cache: "warm", run, ...warm }));
      await context.close();
    }
  }
} finally {
  await browser.close();
}
