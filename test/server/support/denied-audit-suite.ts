/**
 * Denied attempts in the audit log (issue #11), one suite for both stores: every 401
 * and 403 is an audit entry naming who, what, why and from where, in the hash chain;
 * a flood writes at most the limit per source (and 4× for all sources) plus one
 * `denied.suppressed` summary per window.
 */
import { expect, it } from 'vitest';
import type { ServerSettings } from '../../../src/config/settings.js';
import type { TestServer } from './test-server.js';

/** What the suite's server must be started with (and a clock it can move). */
export const DENIED_AUDIT_SETTINGS: Partial<ServerSettings> = {
  deniedAuditLimit: { max: 3, windowMs: 60_000 },
  // Many bad tokens from one address: the failed-authentication limit would answer 429.
  authFailLimit: { max: 1_000_000, windowMs: 60_000 },
};

interface AuditEntry {
  revision: number;
  actor: string;
  action: string;
}

/**
 * Register the cases on a server (started with {@link DENIED_AUDIT_SETTINGS}, the
 * model applied, its clock `now()`); `advance(ms)` moves that clock.
 *
 * @example deniedAuditSuite(() => s, (ms) => (clock += ms));
 */
export function deniedAuditSuite(server: () => TestServer, advance: (ms: number) => void): void {
  let s: TestServer;

  /** Denied entries after `since`, oldest first. */
  async function denied(since: number): Promise<AuditEntry[]> {
    await s.denials.settled();
    const r = await s.call('GET', `/v1/audit?since=${since}&limit=1000`);
    expect(r.status, r.text).toBe(200);
    const items = (r.body.items ?? r.body) as AuditEntry[];
    return items.filter((e) => e.action.startsWith('denied')).reverse();
  }

  /** A fresh window, so each case starts with empty buckets. */
  function nextWindow(): void {
    s = server();
    advance(61_000);
  }

  it('records each 401 and 403 with actor, token id, route, reason and address', async () => {
    nextWindow();
    const since = s.manager.revision;
    expect(
      (await s.call('POST', '/v1/apply', { as: 'viewer', body: { documents: [] } })).status,
    ).toBe(403);
    const bad = 'Bearer vnp_00000000000000aa_wrong-secret';
    expect((await s.call('GET', '/v1/peps', { authorization: bad })).status).toBe(401);
    expect((await s.call('GET', '/v1/peps', { as: null })).status).toBe(401);
    expect((await s.call('GET', '/v1/hosts/host-b/state', { as: 'agent' })).status).toBe(403);
    // (The previous window's summary may come first: attempts before this case.)
    const got = (await denied(since)).filter((e) => e.action.startsWith('denied '));
    expect(got.map((e) => e.actor)).toEqual([
      `viewer:${s.tokenIds.viewer}`,
      'anonymous',
      'anonymous',
      `agent:${s.tokenIds.agent}`,
    ]);
    expect(got[0]!.action).toMatch(
      /^denied 403 POST \/v1\/apply from 127\.0\.0\.1: role viewer may not POST/,
    );
    expect(got[1]!.action).toMatch(
      /^denied 401 GET \/v1\/peps from 127\.0\.0\.1 token 00000000000000aa: unknown or revoked token/,
    );
    expect(got[2]!.action).toMatch(/^denied 401 GET \/v1\/peps from 127\.0\.0\.1: missing bearer/);
    expect(got[3]!.action).toMatch(/^denied 403 GET \/v1\/hosts\/host-b\/state from 127\.0\.0\.1/);
    // Denied attempts are links of the audit chain like any change.
    const v = await s.call('GET', '/v1/audit/verify');
    expect(v.status, v.text).toBe(200);
    expect(v.body.ok, v.text).toBe(true);
  });

  it('a flood from one source writes the limit, then one summary per window', async () => {
    nextWindow();
    const since = s.manager.revision;
    const bad = 'Bearer vnp_00000000000000bb_wrong-secret';
    for (let i = 0; i < 40; i++)
      expect((await s.call('GET', '/v1/peps', { authorization: bad })).status).toBe(401);
    expect(await denied(since)).toHaveLength(3);
    nextWindow();
    // The next attempt (or the window's timer) closes the window: its summary first.
    expect((await s.call('GET', '/v1/peps', { authorization: bad })).status).toBe(401);
    const got = await denied(since);
    expect(got).toHaveLength(5);
    expect(got[3]!.actor).toBe('system');
    expect(got[3]!.action).toMatch(
      /^denied\.suppressed 37 further denied attempts \(401: 37\) from 1 source in 1m \(limit 3 per source\); most: 127\.0\.0\.1 00000000000000bb \(37\)/,
    );
    expect(got[4]!.action).toMatch(/^denied 401 GET \/v1\/peps/);
  });

  it('many sources together write at most 4× the per-source limit per window', async () => {
    nextWindow();
    const since = s.manager.revision;
    for (let i = 0; i < 30; i++) {
      const id = (0x1000 + i).toString(16).padStart(16, '0');
      const r = await s.call('GET', '/v1/peps', { authorization: `Bearer vnp_${id}_x` });
      expect(r.status).toBe(401);
    }
    expect(await denied(since)).toHaveLength(12);
    nextWindow();
    await s.denials.close();
    const got = await denied(since);
    expect(got).toHaveLength(13);
    expect(got[12]!.action).toMatch(/^denied\.suppressed 18 further .* from 18 sources/);
  });
}

/**
 * The actions committed after revision `before` other than denied attempts' entries:
 * what "a refused request changes nothing" means now that refusals are audited.
 *
 * @example expect(await writesBesidesDenials(s, before)).toEqual([]);
 */
export async function writesBesidesDenials(s: TestServer, before: number): Promise<string[]> {
  if (s.manager.revision === before) return [];
  await s.denials.settled();
  const records = await s.store.changesSince(before, 1000);
  return records.map((r) => r.action).filter((a) => !a.startsWith('denied'));
}
