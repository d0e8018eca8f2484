/** Denied attempts audited, rate-limited, chained — on PostgreSQL (PGlite: auth-matrix.test.ts). */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { MODEL } from './support/fixtures.js';
import { DENIED_AUDIT_SETTINGS, deniedAuditSuite } from './support/denied-audit-suite.js';
import { freshDatabase, startTestServer, type TestServer } from './support/test-server.js';

const db = await freshDatabase();

describe.runIf(db !== undefined)('denied attempts in the audit log (PostgreSQL)', () => {
  let s: TestServer;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  beforeAll(async () => {
    s = await startTestServer({
      databaseUrl: db!.url,
      now: () => clock,
      settings: DENIED_AUDIT_SETTINGS,
    });
    expect((await s.call('POST', '/v1/apply', { body: { documents: MODEL } })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await db?.drop();
  });
  deniedAuditSuite(
    () => s,
    (ms) => (clock += ms),
  );
});
