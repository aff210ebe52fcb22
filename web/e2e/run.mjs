// @ts-check
/**
 * Run browser scenarios in one Chromium: `node e2e/run.mjs sign_in api_keys ...`. Each scenario gets its
 * own contexts; its outcome is one line, `passed NAME` or `failed NAME: <error>`, after its facts and
 * screenshots (every line names its scenario, so scenarios may run side by side:
 * NEXORA_E2E_CONCURRENCY, default 2). The exit code is 0 when every scenario passed.
 */
import { launchBrowser, scenarioScope } from "./lib.mjs";

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error("usage: node e2e/run.mjs SCENARIO...");
  process.exit(2);
}
const concurrency = Math.max(1, Number(process.env.NEXORA_E2E_CONCURRENCY ?? "2") || 1);

/**
 * @param {import("playwright-core").Browser} browser
 * @param {string} name
 */
async function run(browser, name) {
  const scope = { name, contexts: /** @type {import("playwright-core").BrowserContext[]} */ ([]) };
  const started = performance.now();
  try {
    await scenarioScope.run(scope, async () => {
      if (!/^[a-z_]+$/.test(name)) throw new Error(`not a scenario name: ${name}`);
      const module = await import(`./${name}.mjs`);
      await module.default(browser);
    });
    console.log(`passed ${name}`);
    return true;
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.log(`failed ${name}: ${JSON.stringify(text)}`);
    return false;
  } finally {
    await Promise.all(scope.contexts.map((context) => context.close()));
    console.log(`took ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

const browser = await launchBrowser();
let failures = 0;
try {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      if (!(await run(browser, name))) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
} finally {
  await browser.close();
}
process.exitCode = failures === 0 ? 0 : 1;
