/**
 * Browser tests (`*.browser.test.ts`): Debian's Chromium driven by playwright-core
 * (never a downloaded browser), headless, against a real manager listening on a
 * loopback port and serving the built UI. Without Chromium or the built bundle the
 * suite skips loudly — and under CI=true fails naming what is missing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEFAULT_WEB_ROOT } from '../../../src/server/routes/web-ui.js';

export const CHROMIUM = process.env.VNP_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(import.meta.dirname, '../../../test-results/ui');

/** Why browser tests cannot run here, or undefined. */
export function browserProblem(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set VNP_CHROMIUM)`;
  if (!existsSync(join(DEFAULT_WEB_ROOT, 'index.html')))
    return `the web UI is not built (${DEFAULT_WEB_ROOT}/index.html): run npm run build`;
  return undefined;
}

/**
 * Launch headless Chromium. Playwright gives every launch a fresh temporary profile
 * (its own --user-data-dir), removed at close; the flags keep Chromium off the network
 * (no component updates, sync or background fetches) and out of the sandbox the
 * container lacks.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A context whose pages record console errors and CSP violations (tests assert none). */
export async function watchedContext(
  browser: Browser,
): Promise<{ context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  context.on('page', (page) => watchPage(page, problems));
  // Nothing but the manager: any other host would be third-party network access.
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => {
    problems.push(`request outside the manager: ${route.request().url()}`);
    void route.abort();
  });
  return { context, problems };
}

function watchPage(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

let axeSource: string | undefined;

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= await readFile(
    createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
    'utf8',
  );
  // Evaluated over the DevTools protocol, so the page's CSP (no inline scripts) still holds.
  await page.evaluate(axeSource);
  const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as {
    violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join('; ')})`,
    );
}

/** The README's screenshots (docs/ui-NAME.png), rewritten by a run with VNP_DOCS_SCREENSHOTS=1. */
const DOCS = join(import.meta.dirname, '../../../docs');
const DOC_SHOTS = new Set(['map', 'flows']);

/**
 * Screenshot into test-results/ui/NAME.png (CI keeps the folder); with
 * VNP_DOCS_SCREENSHOTS=1 the README's ones (map, flows) are also written to docs/.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  const shot = await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (process.env.VNP_DOCS_SCREENSHOTS === '1' && DOC_SHOTS.has(name))
    await writeFile(join(DOCS, `ui-${name}.png`), shot);
}

/**
 * Go to a page by its fragment and wait until it says it is ready; returns the ms it
 * took. The browser side is a string: this module is also compiled without the DOM
 * library (bench/ui.ts).
 */
export async function openPage(page: Page, id: string): Promise<number> {
  if (!/^[a-z-]+$/.test(id)) throw new Error(`openPage: bad page id ${id}`);
  return (await page.evaluate(`new Promise((resolve) => {
    const t0 = performance.now();
    window.location.hash = '#/${id}';
    const ready = () =>
      document.querySelector('[data-page="${id}"][data-ready="true"]')
        ? resolve(performance.now() - t0)
        : requestAnimationFrame(ready);
    ready();
  })`)) as number;
}
