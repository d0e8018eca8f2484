/**
 * The auth matrix, generated: every operation of /openapi.json (its `x-vnp-access`)
 * × {none, bad, revoked, viewer, operator, admin, agent-own-host, agent-other-host},
 * each answer checked against the one table of docs/security.md ("Access levels").
 * A new route is covered the day it is added; a route whose access changes without
 * the table (or the other way round) fails here. The same server then proves that
 * denied attempts are audited (test/server/support/denied-audit-suite.ts; PostgreSQL:
 * denied-audit.integration.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLERS,
  documentedTable,
  meets,
  operationsOf,
  type Caller,
} from './support/access-table.js';
import { DENIED_AUDIT_SETTINGS, deniedAuditSuite } from './support/denied-audit-suite.js';
import { MODEL } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
let revoked: string;
let clock = Date.now();
beforeAll(async () => {
  // Hundreds of bad and revoked tokens from one address: the failed-authentication
  // limit (test/server/hardening.test.ts) would answer 429 where this table says 401.
  s = await startTestServer({ now: () => clock, settings: DENIED_AUDIT_SETTINGS });
  url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  expect((await s.call('POST', '/v1/apply', { body: { documents: MODEL } })).status).toBe(200);
  const t = await s.call('POST', '/v1/tokens', { body: { role: 'viewer' } });
  revoked = t.body.token as string;
  expect((await s.call('DELETE', `/v1/tokens/${t.body.id as string}`)).status).toBeLessThan(300);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

function authorization(c: Caller): string | undefined {
  if (c === 'none') return undefined;
  if (c === 'bad') return 'Bearer vnp_0000000000000000_not-a-secret';
  if (c === 'revoked') return `Bearer ${revoked}`;
  if (c.startsWith('agent')) return `Bearer ${s.tokens.agent}`; // bound to host-a
  return `Bearer ${s.tokens[c as 'viewer' | 'operator' | 'admin']}`;
}

/** A concrete path: names that do not exist (a 404 is fine), the caller's host. */
function concrete(path: string, c: Caller): string {
  return path
    .replace('{host}', c === 'agent-other-host' ? 'host-b' : 'host-a')
    .replace('{name}', 'zz-missing')
    .replace('{id}', 'zz-missing');
}

/** Status of one request; a stream (watch) is cut once its status is known. */
async function statusOf(method: string, path: string, c: Caller): Promise<number> {
  const auth = authorization(c);
  const body = ['post', 'put', 'patch'].includes(method) ? '{}' : undefined;
  const ac = new AbortController();
  const res = await fetch(url + path, {
    method: method.toUpperCase(),
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body } : {}),
    signal: ac.signal,
  });
  ac.abort();
  return res.status;
}

describe('auth matrix (every /openapi.json operation × every kind of caller)', () => {
  it('answers as docs/security.md says', async () => {
    const table = documentedTable();
    const doc = (await s.call('GET', '/openapi.json', { as: null })).body as {
      paths: Record<string, Record<string, { 'x-vnp-access'?: string }>>;
    };
    const failures: string[] = [];
    let checked = 0;
    for (const { method, path, access } of operationsOf(doc)) {
      const row = access === undefined ? undefined : table.get(access);
      if (!row) {
        failures.push(`${method} ${path}: access ${access} is not in the table`);
        continue;
      }
      for (const c of CALLERS) {
        const want = row[c] === 'own' ? (path.includes('{host}') ? '403' : 'ok') : row[c];
        const got = await statusOf(method, concrete(path, c), c);
        checked++;
        if (!meets(want, got))
          failures.push(`${method} ${path} as ${c} (${access}): ${got}, want ${want}`);
      }
    }
    expect(failures).toEqual([]);
    // Every operation of the API was tried by every kind of caller.
    expect(checked).toBeGreaterThanOrEqual(50 * CALLERS.length);
  }, 120_000);
});

describe('denied attempts in the audit log (PGlite)', () => {
  deniedAuditSuite(
    () => s,
    (ms) => (clock += ms),
  );
});
