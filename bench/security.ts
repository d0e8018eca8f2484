/**
 * `npm run bench -- security`: the long fuzz run (issue #11, "keep proving it") —
 * ≥ 100,000 inputs (10,000 with --quick) against a real manager (PGlite): requests
 * derived from every operation of its /openapi.json (test/server/support/openapi-fuzz.ts,
 * the generator the fuzz test uses), sent as admin, plus raw malformed HTTP on a
 * socket (one in 50). Reports the counts by status, the inputs per second, refused
 * requests that changed the revision, and the slowest /healthz answer meanwhile.
 * Fails when any answer is a 5xx, a refused request changed state, or /healthz took
 * a second or more.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { MODEL } from '../test/server/support/fixtures.js';
import { malformedHttp, requestsOf } from '../test/server/support/openapi-fuzz.js';
import { startTestServer } from '../test/server/support/test-server.js';
import type { Suite } from './run.js';

function rawExchange(port: number, raw: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve(m ? Number(m[1]) : undefined);
    });
    sock.on('error', () => undefined);
    sock.end(raw);
  });
}

export const securitySuite: Suite = {
  async run(opts) {
    const total = opts.quick ? 10_000 : 100_000;
    const s = await startTestServer();
    try {
      const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
      const port = Number(new URL(url).port);
      await s.call('POST', '/v1/apply', { body: { documents: MODEL } });
      const doc = (await s.call('GET', '/openapi.json', { as: null })).body;
      const requests = requestsOf(doc);
      const byStatus = new Map<string, number>();
      const count = (k: string) => byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
      const fivexx: string[] = [];
      let changedOnRefusal = 0;
      let slowest = 0;
      const probe = setInterval(() => {
        const t0 = Date.now();
        void fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
          () => (slowest = Math.max(slowest, Date.now() - t0)),
          () => (slowest = Math.max(slowest, 1000)),
        );
      }, 250);
      const t0 = performance.now();
      let done = 0;
      while (done < total) {
        const n = Math.min(1000, total - done);
        for (const req of fc.sample(requests, n - Math.floor(n / 50))) {
          const before = s.manager.revision;
          const r = await s.call(req.method, req.url, {
            ...(req.body !== undefined ? { raw: req.body } : {}),
            ...(req.contentType ? { headers: { 'content-type': req.contentType } } : {}),
          });
          count(String(r.status));
          if (r.status >= 500 && fivexx.length < 20)
            fivexx.push(`${req.method} ${req.url} → ${r.status} ${r.text.slice(0, 200)}`);
          // Denied attempts (401/403) are audited: those entries are the only writes a
          // refusal may cause (docs/security.md "Denied attempts").
          if (r.status >= 400 && s.manager.revision !== before) {
            await s.denials.settled();
            const writes = await s.store.changesSince(before, 1000);
            if (writes.some((w) => !w.action.startsWith('denied'))) changedOnRefusal++;
          }
        }
        for (const raw of fc.sample(malformedHttp, Math.floor(n / 50))) {
          const st = await rawExchange(port, raw);
          count(st === undefined ? 'raw: connection closed' : `raw: ${st}`);
          if (st !== undefined && st >= 500 && fivexx.length < 20)
            fivexx.push(`raw ${JSON.stringify(raw.slice(0, 80))} → ${st}`);
        }
        done += n;
        if (done % 10_000 === 0) opts.log(`  ${done} inputs…`);
      }
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(probe);
      const statuses = [...byStatus].sort(([a], [b]) => (a < b ? -1 : 1));
      const errors = statuses
        .filter(([k]) => /(^|: )5\d\d$/.test(k))
        .reduce((a, [, n]) => a + n, 0);
      const ok = errors === 0 && changedOnRefusal === 0 && slowest < 1000;
      const report = [
        `fuzzed inputs: ${done} (${(done / seconds).toFixed(0)}/s, ${seconds.toFixed(1)} s) from ${Object.keys(doc.paths).length} paths of /openapi.json, 1 in 50 raw malformed HTTP`,
        `by status: ${statuses.map(([k, n]) => `${k}: ${n}`).join(', ')}`,
        `5xx: ${errors}; refused requests that changed state (beyond their denied-attempt audit entries): ${changedOnRefusal}; slowest /healthz meanwhile: ${slowest} ms — ${ok ? 'OK' : 'FAILED'}`,
        ...fivexx.map((l) => `  ${l}`),
      ].join('\n');
      return {
        json: {
          inputs: done,
          seconds,
          perSecond: done / seconds,
          byStatus: Object.fromEntries(statuses),
          fivexx: errors,
          examples5xx: fivexx,
          changedOnRefusal,
          slowestHealthzMs: slowest,
        },
        report,
        ok,
      };
    } finally {
      await s.close();
    }
  },
};
