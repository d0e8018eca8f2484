/**
 * The web UI in a real browser (docs/web.md): sign-in by the printed address, every
 * page with a screenshot and axe-core, live updates across two browser contexts, the
 * policy editor's test gate, rollback with preview, a viewer's read-only UI, and the
 * server's error shown beside the kept input.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  axeViolations,
  launchChromium,
  openPage,
  screenshot,
  watchedContext,
} from './support/browser.js';
import { describeBrowser } from './support/describe-browser.js';
import { flowRecord, reportFlows } from './support/flows.js';
import { startUiServer, type UiServer } from './support/ui-server.js';

/** A policy for the db tier's ingress, as the editor's YAML lines. */
const dbPolicy = (name: string, priority: number, action: 'allow' | 'deny') => [
  'kind: Policy',
  `name: ${name}`,
  `priority: ${priority}`,
  'appliesTo: app == "shop" && tier == 3',
  `ingress: [{action: ${action}}]`,
];

const PAGES = ['overview', 'map', 'records', 'policies', 'flows', 'check', 'history', 'events'];

describeBrowser('web UI (Chromium)', () => {
  let server: UiServer;
  let browser: Browser;
  /** One admin tab for the tests that need no fresh sign-in (a sign-in loads the model). */
  let admin: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchChromium()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signedIn(role: 'admin' | 'operator' | 'viewer' = 'admin'): Promise<Page> {
    const { context, problems: seen } = await watchedContext(browser);
    const page = await context.newPage();
    page.on('close', () => {
      problems.push(...seen);
      // The browser may close first (afterAll): that closes the context too.
      context.close().catch(() => undefined);
    });
    await page.goto(`${server.url}/#token=${server.tokens[role]}`);
    await page.waitForSelector('[data-page="overview"][data-ready="true"]');
    return page;
  }

  it('signs in from the #token= address and takes the token out of the address bar', async () => {
    const page = (admin = await signedIn());
    expect(page.url()).toBe(`${server.url}/#/`);
    expect(await page.evaluate(() => sessionStorage.getItem('vnp.token'))).toBe(
      server.tokens.admin,
    );
    expect(await page.context().cookies()).toEqual([]);
    await expect.poll(() => page.textContent('.counts')).toContain('9records');
    // The headers of the API hold for the page too: strict CSP, no inline code.
    const res = await page.request.get(`${server.url}/`);
    expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers()['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('the flows table fills from flow records as an agent reports them, then live', async () => {
    const page = admin;
    await reportFlows(server, [
      await flowRecord(server, { src: 'web-1', dst: 'app-1', port: 8080 }),
      await flowRecord(server, { src: 'web-1', dst: 'db-1', port: 5432 }),
      // Allowed when it happened, denied by the policy now: the map marks it.
      await flowRecord(server, { src: 'web-2', dst: 'app-2', port: 22, verdict: 'allow' }),
    ]);
    await openPage(page, 'flows');
    // The manager stores reported flows in batches (every 100 ms): give the listing time.
    const rows = () => page.locator('[data-page="flows"] tbody tr[data-row]').count();
    await expect.poll(rows, { timeout: 5000 }).toBe(3);
    await reportFlows(server, [
      await flowRecord(server, { src: 'app-2', dst: 'db-1', port: 5432 }),
    ]);
    await expect.poll(rows, { timeout: 5000 }).toBe(4);
    expect(await page.textContent('[data-page="flows"] tbody')).toContain('app-2 (');
  });

  it('every page renders, is screenshotted, and has no serious or critical axe violation', async () => {
    const page = admin;
    const found: Record<string, string[]> = {};
    for (const id of PAGES) {
      await openPage(page, id);
      if (id === 'map') await page.waitForFunction(() => document.querySelector('.cy canvas'));
      await screenshot(page, id);
      found[id] = await axeViolations(page);
    }
    expect(found).toEqual(Object.fromEntries(PAGES.map((id) => [id, []])));
  });

  it('is keyboard navigable: Tab reaches the navigation and Enter switches pages', async () => {
    const page = admin;
    await openPage(page, 'overview');
    await page.focus('body');
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab'); // Overview
    await page.keyboard.press('Tab'); // Map
    await page.keyboard.press('Tab'); // Records
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-page="records"][data-ready="true"]');
  });

  it('the map filters edges by protocol and port, highlights a selector, explains a clicked edge', async () => {
    const page = admin;
    await openPage(page, 'map');
    const edges = page.locator('[data-testid="edges"] tbody tr');
    await expect.poll(() => edges.count()).toBeGreaterThan(1);
    const unfiltered = await edges.count();
    await page.selectOption('#map-proto', 'tcp');
    await page.fill('#map-port', '5432');
    await page.fill('#map-selector', 'tier == 3');
    await page.click('button:text-is("Show")');
    await expect.poll(() => page.textContent('[data-page="map"] form')).toContain('highlighted');
    const shown = await edges.allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(unfiltered);
    // Each edge allows tcp/5432: that port, a range, or every port (an intra-allow partition).
    for (const row of shown) expect(row).toMatch(/tcp\/(5432|all|\d+-\d+)/);
    expect(shown.join(' ')).toContain('tcp/5432');
    expect(await page.locator('[data-testid="nodes"] tr.selected').allTextContents()).toEqual([
      expect.stringContaining('db-1'),
    ]);
    // The canvas too: Cytoscape keeps its instance on the container (_cyreg).
    type Cy = {
      nodes(s: string): { map(f: (n: { data(k: string): string }) => string): string[] };
      edges(s: string): {
        length: number;
        map(
          f: (e: { data(k: string): string; renderedMidpoint(): { x: number; y: number } }) => {
            id: string;
            x: number;
            y: number;
          },
        ): { id: string; x: number; y: number }[];
      };
    };
    const canvas = await page.evaluate(() => {
      const cy = (document.querySelector('.cy') as unknown as { _cyreg: { cy: Cy } })._cyreg.cy;
      return {
        hits: cy.nodes('.hit').map((n) => n.data('label')),
        edges: cy.edges('.allow').map((e) => ({ id: e.data('id'), ...e.renderedMidpoint() })),
      };
    });
    expect(canvas.hits.join(' ')).toContain('tier=3');
    // Click an allowed edge on the canvas: check is asked in both directions.
    const box = (await page.locator('.cy').boundingBox())!;
    const edge = canvas.edges[0]!;
    await page.mouse.click(box.x + edge.x, box.y + edge.y);
    const explain = page.locator('[data-testid="edge-explain"]');
    await expect.poll(() => explain.locator('.explanation').count()).toBe(2);
    const [there, back] = await explain.locator('h3').allTextContents();
    const [a, b] = there!.split(' → ');
    expect(back).toBe(`${b} → ${a}`);
    expect(await explain.textContent()).toContain('tcp/5432');
    await screenshot(page, 'map-edge-explained');
  });

  it('attaches and detaches a record from the records page', async () => {
    const page = admin;
    await openPage(page, 'records');
    await page.click('button:text-is("app-2")');
    const detail = page.locator('.split');
    await expect.poll(() => detail.textContent()).toContain('instance: vm-app-2');
    await page.click('button:text-is("Detach")');
    await expect.poll(() => detail.textContent()).toContain('instance: not attached');
    expect((await server.call('GET', '/v1/interfaces/app-2')).body.instance).toBeUndefined();
    await page.selectOption('#attach-instance', 'vm-app-2');
    await page.click('button:text-is("Attach")');
    await expect.poll(() => detail.textContent()).toContain('instance: vm-app-2');
    expect((await server.call('GET', '/v1/interfaces/app-2')).body.instance).toBe('vm-app-2');
  });

  it('a tag set in one context changes the map and a verdict in others within 1 s', async () => {
    const editor = await signedIn('operator');
    // Other contexts (own windows: a background tab's timers and frames are throttled).
    const watcher = await signedIn('viewer');
    const checker = await signedIn('viewer');
    await openPage(checker, 'check');
    await checker.fill('#check-src', 'web-1');
    await checker.fill('#check-dst', 'app-1');
    await checker.fill('#check-port', '8080');
    await checker.click('button:text("Check")');
    await checker.waitForSelector('.explanation[data-verdict="allow"]');
    await openPage(watcher, 'map');
    await watcher.waitForSelector('[data-testid="edges"]', { state: 'attached' });
    expect(
      await watcher.locator('[data-testid="nodes"] tr:has-text("quarantine=true")').textContent(),
    ).not.toContain('web-1');

    await openPage(editor, 'records');
    await editor.click('button:text-is("web-1")');
    await editor.click('button:text("Add tag")');
    await editor.fill('[aria-label="key 6"]', 'quarantine');
    await editor.selectOption('[aria-label="type of quarantine"]', 'boolean');
    await editor.fill('[aria-label="value of quarantine"]', 'true');
    const saved = editor.waitForResponse((r) => r.url().endsWith('/v1/interfaces/web-1/tags'));
    await editor.click('button:text("Save tags")');
    expect((await saved).status()).toBe(200);
    const t0 = Date.now();
    const since = async (p: Promise<unknown>) => (await p, Date.now() - t0);
    const [verdictMs, mapMs] = await Promise.all([
      since(checker.waitForSelector('.explanation[data-verdict="deny"]', { timeout: 5000 })),
      since(
        watcher.waitForFunction(
          () =>
            [...document.querySelectorAll('[data-testid="nodes"] tr')].some(
              (tr) =>
                tr.textContent!.includes('quarantine=true') && tr.textContent!.includes('web-1'),
            ),
          undefined,
          { timeout: 5000 },
        ),
      ),
    ]);
    console.log(`live update across contexts: verdict ${verdictMs} ms, map ${mapMs} ms`);
    expect(Math.max(verdictMs, mapMs)).toBeLessThanOrEqual(1000);
    await screenshot(watcher, 'map-after-tag');
    await Promise.all([editor.close(), watcher.close(), checker.close()]);
  });

  it('a policy apply whose Test fails is refused, saying why', async () => {
    const page = admin;
    await openPage(page, 'policies');
    await page.fill(
      '#yaml',
      [
        ...dbPolicy('open-db', 900, 'allow'),
        '---',
        'kind: Test',
        'name: forensics-to-db-denied',
        'src: forensics-1',
        'dst: db-1',
        'proto: tcp',
        'port: 5432',
        'expect: deny',
      ].join('\n'),
    );
    const refused = page.waitForResponse((r) => r.url().endsWith('/v1/apply'));
    await page.click('button:text("Preview")');
    expect((await refused).status()).toBe(422);
    const blocked = page.locator('[role="alert"]:has-text("Apply blocked")');
    await expect
      .poll(() => blocked.textContent())
      .toContain('forensics-to-db-denied: expected deny, got allow');
    expect(await page.isDisabled('button:text-is("Apply")')).toBe(true);
    await screenshot(page, 'policies-test-failed');
    expect((await server.call('GET', '/v1/policies/open-db')).status).toBe(404);
  });

  it("the editor's preview replays the observed flows through the change", async () => {
    const page = admin;
    await openPage(page, 'policies');
    // app-2 → db-1 tcp/5432 was reported (allowed) by the flows test: this would deny it.
    await page.fill('#yaml', dbPolicy('lock-db', 950, 'deny').join('\n'));
    await page.click('button:text("Preview")');
    const replay = page.locator('[data-testid="against-flows"]');
    await expect.poll(() => replay.textContent()).toContain('would change verdict');
    const row = replay.locator('tbody tr:has-text("app-2")');
    expect(await row.textContent()).toMatch(/db-1.*tcp\/5432.*allow → deny/);
    expect(await row.textContent()).toContain('lock-db');
    await screenshot(page, 'policies-against-flows');
    expect((await server.call('GET', '/v1/policies/lock-db')).status).toBe(404);
  });

  it('rolls back with a preview and a confirmation', async () => {
    const before = (await server.call('GET', '/v1/policies/web')).body as { ingress: unknown[] };
    const changed = await server.call('PATCH', '/v1/policies/web', { body: { mode: 'audit' } });
    expect(changed.status).toBe(200);
    const page = admin;
    await openPage(page, 'history');
    await page.click(`button:text-is("r${changed.body.revision - 1}")`);
    await page.click('button:text("Preview rollback")');
    const preview = page.locator('[data-testid="rollback-preview"]');
    await expect.poll(() => preview.textContent()).toContain('mode');
    await screenshot(page, 'history-rollback-preview');
    await page.click('button:text("Confirm rollback")');
    await page.waitForSelector('text=/rolled back to r/');
    const after = (await server.call('GET', '/v1/policies/web')).body as {
      mode: string;
      ingress: unknown[];
    };
    expect(after.mode).toBe('enforce');
    expect(after.ingress).toEqual(before.ingress);
  });

  it('a viewer sees no write action, and a write is refused', async () => {
    const page = await signedIn('viewer');
    await openPage(page, 'records');
    await page.click('button:text-is("web-2")');
    expect(await page.locator('button:text("Save tags")').count()).toBe(0);
    expect(await page.locator('button:text("Attach")').count()).toBe(0);
    expect(await page.isDisabled('[aria-label="value of app"]')).toBe(true);
    await openPage(page, 'policies');
    expect(await page.locator('button:text("Preview"), button:text-is("Apply")').count()).toBe(0);
    await openPage(page, 'history');
    await page.click('button:text-is("r2")');
    expect(await page.locator('button:text("Preview rollback")').count()).toBe(0);
    await openPage(page, 'events');
    expect(await page.locator('button:text("Report event")').count()).toBe(0);
    const refused = await page.evaluate(async () => {
      const res = await fetch('/v1/interfaces/web-2/tags', {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${sessionStorage.getItem('vnp.token')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ set: { x: 1 } }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'VNP_ERR_FORBIDDEN' } } });
    await page.close();
  });

  it("shows the server's error with its field and keeps the input", async () => {
    const page = admin;
    await openPage(page, 'check');
    await page.fill('#check-src', 'web-1');
    await page.fill('#check-dst', 'app-1');
    await page.fill('#check-port', '99999');
    await page.click('button:text("Check")');
    const alert = page.locator('[role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('field: port');
    expect(await page.inputValue('#check-port')).toBe('99999');
    expect(await page.getAttribute('#check-port', 'aria-invalid')).toBe('true');
  });

  it('an event fires a ttl reaction, and its expiry counts down on the events page', async () => {
    const page = admin;
    await openPage(page, 'events');
    await page.fill('#event-type', 'ids-alert');
    await page.fill('#event-target', 'app-1');
    await page.click('button:text("Report event")');
    const row = page.locator('section[aria-labelledby="h-expiries"] tr:has-text("app-1")');
    const left = () => row.locator('.countdown').textContent();
    // quarantine-on-ids-alert has ttl 3600: the manager's expiry, counting down each second.
    await expect.poll(left).toMatch(/^(59m \d\ds|1h 00m 00s)$/);
    const first = await left();
    await expect.poll(left, { timeout: 3000 }).not.toBe(first);
    expect(await row.textContent()).toContain('quarantine-on-ids-alert');
    await screenshot(page, 'events-expiry');
  });

  it('logged no console error, CSP violation or outside request', async () => {
    await admin.close();
    expect(problems).toEqual([]);
  });
});
