/**
 * `npm run bench -- ui`: the web UI in Debian's Chromium with 10,000 records and 1,000
 * policies (bench/generate.ts) — first meaningful paint (navigation start → the
 * overview's counts drawn from the loaded model) and the time of every view switch
 * (fragment change → the page says it is ready). Targets (issue #14): paint ≤ 2 s,
 * switch ≤ 300 ms.
 */
import { loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import {
  browserProblem,
  launchChromium,
  openPage,
  watchedContext,
} from '../test/web/support/browser.js';
import { startUiServer } from '../test/web/support/ui-server.js';
import { generateModel } from './generate.js';
import type { RunOptions, Suite } from './run.js';

const PAGES = ['map', 'records', 'policies', 'flows', 'check', 'history', 'events', 'overview'];
const TARGET_PAINT_MS = 2000;
const TARGET_SWITCH_MS = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function firstPaint(browser: Browser, url: string, token: string): Promise<number> {
  const { context } = await watchedContext(browser);
  const page = await context.newPage();
  await page.goto(`${url}/#token=${token}`);
  // globalThis: bench/ compiles without the DOM library (a string would need eval, which
  // the page's CSP refuses).
  type Doc = { document: { querySelector(selector: string): unknown } };
  const handle = await page.waitForFunction(
    () =>
      (globalThis as unknown as Doc).document.querySelector(
        '[data-page="overview"][data-ready="true"]',
      )
        ? performance.now()
        : 0,
    undefined,
    { timeout: 60_000, polling: 'raf' },
  );
  const ms = (await handle.jsonValue()) as number;
  await context.close();
  return ms;
}

export const uiSuite: Suite = {
  async run(opts: RunOptions) {
    const problem = browserProblem();
    if (problem)
      return { json: { skipped: problem }, report: `ui: skipped — ${problem}`, ok: false };
    const records = opts.quick ? 1000 : 10_000;
    const policies = opts.quick ? 100 : 1000;
    const { documents } = generateModel({ policies, records });
    opts.log(`ui: loading ${records} records and ${policies} policies into a manager…`);
    const server = await startUiServer(documents);
    const browser = await launchChromium();
    try {
      const paints: number[] = [];
      for (let i = 0; i < 3; i++)
        paints.push(await firstPaint(browser, server.url, server.tokens.admin));
      const { context } = await watchedContext(browser);
      const page = await context.newPage();
      await page.goto(`${server.url}/#token=${server.tokens.admin}`);
      await page.waitForSelector('[data-page="overview"][data-ready="true"]', { timeout: 60_000 });
      const switches: Record<string, number[]> = {};
      for (let round = 0; round < 3; round++)
        for (const id of PAGES) (switches[id] ??= []).push(await openPage(page, id));
      await context.close();
      const perPage = Object.fromEntries(
        Object.entries(switches).map(([id, xs]) => [
          id,
          { median: median(xs), max: Math.max(...xs) },
        ]),
      );
      const worst = Math.max(...Object.values(perPage).map((p) => p.median));
      const paint = median(paints);
      const load1 = Number(loadavg()[0]!.toFixed(2));
      const lines = [
        `ui: ${records} records, ${policies} policies, Chromium headless (load ${load1})`,
        `  first meaningful paint: median ${paint.toFixed(0)} ms of ${paints.map((p) => p.toFixed(0)).join(', ')} (target ≤ ${TARGET_PAINT_MS} ms)`,
        ...Object.entries(perPage).map(
          ([id, p]) =>
            `  switch to ${id.padEnd(9)} median ${p.median.toFixed(0).padStart(5)} ms, max ${p.max.toFixed(0).padStart(5)} ms`,
        ),
        `  worst median view switch: ${worst.toFixed(0)} ms (target ≤ ${TARGET_SWITCH_MS} ms)`,
      ];
      return {
        json: { records, policies, load1, paintMs: paints, switchMs: switches, perPage },
        report: lines.join('\n'),
        ok: paint <= TARGET_PAINT_MS && worst <= TARGET_SWITCH_MS,
      };
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
