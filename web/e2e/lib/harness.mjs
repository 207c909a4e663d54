// The real-browser end-to-end harness: drives Debian's Chromium through playwright-core (which
// never downloads a browser) against a running Berth. A scenario is a script that calls
// `scenario(name, async (t) => { await t.step("…", async () => { … }) })`; the Rust test
// `tests/tests/dashboard.rs` starts Berth, a cluster and a git server and runs it with:
//
//   BERTH_URL              Berth's base URL (required)
//   BERTH_ADMIN_USER       admin username (default admin)
//   BERTH_ADMIN_PASSWORD   admin password (required)
//   BERTH_SCREENSHOT_DIR   where screenshots go (default web/e2e/screenshots)
//   BERTH_CHROMIUM         the browser (default /usr/bin/chromium)
//   BERTH_E2E_HEADED=1     show the browser (needs a display)
//   plus whatever the scenario reads with need("NAME").
//
// Every wait is bounded (15 s per action, 10 min per scenario). On failure the page is
// screenshotted as FAILED-<scenario>.png, the browser's console and errors are printed, and the
// process exits 1.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const here = dirname(fileURLToPath(import.meta.url));

/** A required environment variable. */
export function need(name) {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set (see web/e2e/lib/harness.mjs)`);
  return v;
}

export const config = {
  get url() {
    return need("BERTH_URL").replace(/\/+$/, "");
  },
  adminUser: process.env.BERTH_ADMIN_USER ?? "admin",
  get adminPassword() {
    return need("BERTH_ADMIN_PASSWORD");
  },
  screenshots: resolve(process.env.BERTH_SCREENSHOT_DIR ?? join(here, "..", "screenshots")),
  chromium: process.env.BERTH_CHROMIUM ?? "/usr/bin/chromium",
};

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const ACTION_TIMEOUT_MS = 15_000;
const SCENARIO_TIMEOUT_MS = 10 * 60_000;

function elapsed(start) {
  return `${Math.round(performance.now() - start)} ms`;
}

/**
 * Runs a scenario in a fresh browser profile at 1280×800. `fn` receives the test context:
 * `page`, `step(title, fn)`, `shot(name)`, `login(user, password)`, `goto(path)`, `newPage()`.
 */
export async function scenario(name, fn) {
  const started = performance.now();
  const profile = mkdtempSync(join(tmpdir(), "berth-e2e-"));
  mkdirSync(config.screenshots, { recursive: true });
  rmSync(join(config.screenshots, `FAILED-${name}.png`), { force: true });
  const logs = [];
  let context;
  let current = "launch";
  const guard = setTimeout(() => {
    console.error(`scenario ${name} exceeded ${SCENARIO_TIMEOUT_MS / 1000} s during "${current}"`);
    process.exit(1);
  }, SCENARIO_TIMEOUT_MS);
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: config.chromium,
      headless: process.env.BERTH_E2E_HEADED !== "1",
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      baseURL: config.url,
      locale: "en-GB",
      timezoneId: "UTC",
      colorScheme: "light",
    });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const watch = (page) => {
      page.on("console", (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    };
    context.on("page", watch);
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    const pageErrors = () => logs.filter((l) => l.startsWith("[pageerror]"));

    const t = {
      page,
      async step(title, body) {
        current = title;
        const s = performance.now();
        await body();
        const errors = pageErrors();
        if (errors.length > 0) throw new Error(`uncaught error in the page during "${title}":\n${errors.join("\n")}`);
        console.log(`  ✓ ${title} (${elapsed(s)})`);
      },
      async shot(shotName, target = page) {
        const path = join(config.screenshots, `${name}-${shotName}.png`);
        await target.screenshot({ path, fullPage: true, animations: "disabled" });
        console.log(`    screenshot ${path}`);
      },
      /**
       * Runs axe-core (WCAG 2.1 A/AA rules) on the page as it is now; fails on serious or critical
       * violations, naming the rule and the elements.
       */
      async accessible(what, target = page) {
        await target.addScriptTag({ path: axePath });
        const violations = await target.evaluate(async () => {
          const result = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
          return result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.help}\n      ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join("\n      ")}`);
        });
        if (violations.length > 0) throw new Error(`accessibility problems on ${what}:\n    ${violations.join("\n    ")}`);
        console.log(`    accessible: ${what}`);
      },
      async goto(path, target = page) {
        await target.goto(path);
      },
      async login(username, password, target = page) {
        await target.goto("/login");
        await target.getByLabel("Username", { exact: true }).fill(username);
        await target.getByLabel("Password", { exact: true }).fill(password);
        await target.getByRole("button", { name: "Sign in" }).click();
        await target.getByRole("navigation", { name: "Main" }).waitFor();
      },
      async newPage() {
        return context.newPage();
      },
    };
    console.log(`scenario ${name} against ${config.url}`);
    await fn(t);
    console.log(`scenario ${name} passed (${elapsed(started)})`);
  } catch (e) {
    console.error(`scenario ${name} FAILED in step "${current}": ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    const page = context?.pages()[0];
    if (page) {
      try {
        const path = join(config.screenshots, `FAILED-${name}.png`);
        await page.screenshot({ path, fullPage: true });
        console.error(`failure screenshot: ${path} (page ${page.url()})`);
      } catch {
        // The page may be gone; the log below still helps.
      }
    }
    if (logs.length > 0) console.error(`browser log:\n${logs.join("\n")}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(guard);
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Waits until `locator` has exactly `count` matches (bounded by the action timeout). */
export async function waitForCount(locator, count, timeout = ACTION_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const n = await locator.count();
    if (n === count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} match(es) of ${locator}, found ${n}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Fails unless nothing matches `locator` right now. */
export async function expectNone(locator, what) {
  const n = await locator.count();
  if (n !== 0) throw new Error(`${what}: expected none, found ${n}`);
}
