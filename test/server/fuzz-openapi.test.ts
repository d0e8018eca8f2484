/**
 * Keep proving it (issue #11): fast-check over every operation of /openapi.json
 * (bodies shaped by each request schema, edges and garbage mixed in, path and query
 * values) and raw malformed HTTP on a socket — as admin, the role that reaches every
 * handler. No answer is a 5xx, a refused request changes nothing, and /healthz
 * answers within one second throughout. Bounded to well under a minute; the long run
 * (≥ 100,000 inputs) is `npm run bench -- security`.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL } from './support/fixtures.js';
import { malformedHttp, requestsOf } from './support/openapi-fuzz.js';
import { writesBesidesDenials } from './support/denied-audit-suite.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
let port: number;
let doc: Parameters<typeof requestsOf>[0];
/** Slowest /healthz answer seen while fuzzing (ms), from a probe every 250 ms. */
let slowest = 0;
let probe: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  s = await startTestServer();
  url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(url).port);
  expect((await s.call('POST', '/v1/apply', { body: { documents: MODEL } })).status).toBe(200);
  doc = (await s.call('GET', '/openapi.json', { as: null })).body;
  probe = setInterval(() => {
    const t0 = Date.now();
    void fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => {
        expect(r.status).toBe(200);
        slowest = Math.max(slowest, Date.now() - t0);
      },
      () => (slowest = Math.max(slowest, 1000)),
    );
  }, 250);
}, 60_000);
afterAll(async () => {
  clearInterval(probe);
  await s?.close();
});

describe('fuzzed operations of /openapi.json', () => {
  it('never answer 5xx, and a refused request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requestsOf(doc), async (req) => {
        const before = s.manager.revision;
        const r = await s.call(req.method, req.url, {
          ...(req.body !== undefined ? { raw: req.body } : {}),
          ...(req.contentType ? { headers: { 'content-type': req.contentType } } : {}),
        });
        const shown = `${req.method} ${req.url} ${req.body?.slice(0, 200)} → ${r.status} ${r.text.slice(0, 300)}`;
        expect(r.status, shown).toBeLessThan(500);
        if (r.status >= 400) expect(await writesBesidesDenials(s, before), shown).toEqual([]);
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 25_000 },
    );
    expect(slowest).toBeLessThan(1000);
  }, 60_000);

  it('survive raw malformed HTTP without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(malformedHttp, async (raw) => {
        const answer = await new Promise<string>((resolve) => {
          const sock = connect(port, '127.0.0.1');
          let text = '';
          sock.setTimeout(1000, () => sock.destroy());
          sock.on('data', (d) => (text += d.toString('latin1')));
          sock.on('close', () => resolve(text));
          sock.on('error', () => undefined);
          sock.end(raw);
        });
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
        if (status)
          expect(
            Number(status),
            `${JSON.stringify(raw.slice(0, 100))} → ${answer.slice(0, 200)}`,
          ).toBeLessThan(500);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 10_000 },
    );
    const h = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    expect(h.status).toBe(200);
    expect(slowest).toBeLessThan(1000);
  }, 60_000);
});
