/**
 * Issue 11, High 4 and item 7: `POST /v1/impact` takes bounded input, returns bounded
 * pages, keeps the event loop turning while it computes, and a malformed document is
 * a field-named 400, never a 500.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from '../../src/model/types.js';
import { IMPACT_MAX_CHANGES, IMPACT_MAX_LIMIT } from '../../src/server/impact-preview.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;

const iface = (i: number, app: string): Document => ({
  kind: 'Interface',
  name: `r${i}`,
  subnet: 'lan',
  ips: [`10.40.${i >> 8}.${(i & 255) + 0}`],
  tags: { app, env: 'prod' },
});

/** 300 records in 30 apps, default deny, each app allowed tcp/443 from the next. */
function model(): Document[] {
  const docs: Document[] = [
    { kind: 'Subnet', name: 'lan', cidr: '10.40.0.0/16' },
    {
      kind: 'Settings',
      name: 'default',
      defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
    },
  ];
  for (let i = 0; i < 300; i++) docs.push(iface(i + 1, `a${i % 30}`));
  for (let p = 0; p < 30; p++)
    docs.push({
      kind: 'Policy',
      name: `p${p}`,
      priority: 100,
      appliesTo: `app == "a${p}"`,
      ingress: [
        { action: 'allow', from: { selector: `app == "a${(p + 1) % 30}"` }, ports: ['tcp/443'] },
      ],
      egress: [{ action: 'allow', to: { selector: 'env == "prod"' }, ports: ['tcp/443'] }],
      routes: [],
      mode: 'enforce',
    });
  return docs;
}

beforeAll(async () => {
  s = await startTestServer();
  const r = await s.call('POST', '/v1/apply', { body: { documents: model() } });
  expect(r.status, r.text).toBe(200);
}, 180_000);
afterAll(async () => {
  await s?.close();
});

/** Every record re-tagged into one new app: every pair of the model flips somewhere. */
const retagAll = () => Array.from({ length: 300 }, (_, i) => iface(i + 1, `b${i % 7}`));

describe('POST /v1/impact bounds', () => {
  it.each([
    [{ documents: [null] }, 'documents[0]'],
    [{ documents: [42] }, 'documents[0]'],
    [{ documents: ['x'] }, 'documents[0]'],
    [{ documents: [[]] }, 'documents[0]'],
    [{ documents: [], deletes: [null] }, 'deletes[0]'],
    [{ documents: [], limit: IMPACT_MAX_LIMIT + 1 }, 'limit'],
    [{ documents: [], limit: 100000 }, 'limit'],
    [{ documents: [], offset: -1 }, 'offset'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const r = await s.call('POST', '/v1/impact', { as: 'viewer', body });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.code).toBe('VNP_ERR_VALIDATION');
    expect(r.body.error.details.field).toBe(field);
  });

  it('apply refuses a null document with a 400 naming it', async () => {
    const r = await s.call('POST', '/v1/apply', { body: { documents: [null], dryRun: true } });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.field).toBe('documents[0]');
  });

  it(`refuses more than ${IMPACT_MAX_CHANGES} documents and deletes`, async () => {
    const documents = Array.from({ length: IMPACT_MAX_CHANGES + 1 }, (_, i) => iface(i + 1, 'x'));
    const r = await s.call('POST', '/v1/impact', { as: 'viewer', body: { documents } });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.field).toBe('documents');
    const half = IMPACT_MAX_CHANGES / 2 + 1;
    const both = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: {
        documents: documents.slice(0, half),
        deletes: Array.from({ length: half }, (_, i) => ({ kind: 'Interface', name: `r${i + 1}` })),
      },
    });
    expect(both.status, both.text).toBe(400);
    expect(both.body.error.details.field).toBe('documents');
  });

  it('pages the rows: limit rows, offset continues, total counts them all', async () => {
    const body = { documents: retagAll(), limit: 40 };
    const first = await s.call('POST', '/v1/impact', { as: 'viewer', body });
    expect(first.status, first.text).toBe(200);
    const { rows, total, truncated } = first.body.impact;
    expect(rows).toHaveLength(40);
    expect(total).toBeGreaterThan(80);
    expect(truncated).toBe(total - 40);
    const second = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { ...body, offset: 40 },
    });
    const both = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { ...body, limit: 80 },
    });
    expect([...rows, ...second.body.impact.rows]).toEqual(both.body.impact.rows);
    expect(second.body.impact.truncated).toBe(total - 80);
    const past = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { ...body, offset: total },
    });
    expect(past.body.impact).toMatchObject({ rows: [], truncated: 0, total });
  });

  it('keeps the event loop turning and health answering while previews run', async () => {
    const body = { documents: retagAll(), limit: IMPACT_MAX_LIMIT };
    let longest = 0;
    let last = performance.now();
    let ticking = true;
    const ticker = (async () => {
      while (ticking) {
        await new Promise((r) => setTimeout(r, 1));
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }
    })();
    const previews = Array.from({ length: 3 }, () =>
      s.call('POST', '/v1/impact', { as: 'viewer', body }),
    );
    const health = await s.call('GET', '/healthz', { as: null });
    const answers = await Promise.all(previews);
    ticking = false;
    await ticker;
    expect(health.status).toBe(200);
    for (const a of answers) expect(a.status, a.text).toBe(200);
    expect(answers[0]!.body.impact.rows.length).toBeLessThanOrEqual(IMPACT_MAX_LIMIT);
    // The preview yields every few ms; the snapshot forks are the longest steps (300 records).
    expect(longest).toBeLessThan(1000);
  });

  it('refuses previews past the queue with a 429 and serves the rest', async () => {
    const body = { documents: retagAll(), limit: 10 };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => s.call('POST', '/v1/impact', { as: 'viewer', body })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((x) => x === 200 || x === 429)).toBe(true);
  });

  it('a dry run previews on a snapshot: writes during it are not blocked and not seen', async () => {
    const rev = s.manager.revision;
    const dry = s.call('POST', '/v1/apply', { body: { documents: retagAll(), dryRun: true } });
    const tag = await s.call('PATCH', '/v1/interfaces/r1/tags', { body: { set: { extra: 'x' } } });
    expect(tag.status, tag.text).toBe(200);
    const r = await dry;
    expect(r.status, r.text).toBe(200);
    expect(r.body.impact.total).toBeGreaterThan(0);
    expect(s.manager.revision).toBe(rev + 1);
  });
});
