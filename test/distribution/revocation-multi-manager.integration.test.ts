/**
 * Two managers on one PostgreSQL database: a token revoked on manager A closes the
 * streams it opened on manager B — the agent's WebSocket channel (4401) and NDJSON
 * watch, and a person's `/v1/watch` — within B's token re-check period (5 s; B learns
 * of the revocation only through the database), and B then refuses the token.
 * Needs PostgreSQL (VNP_TEST_DATABASE_URL); skips loudly without it, fails in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAuthenticator, TOKEN_REVOKED } from '../../src/server/auth.js';
import { CLOSE_TOKEN_REVOKED } from '../../src/server/distribution/host-channel.js';
import { createToken } from '../../src/server/tokens.js';
import {
  endedWithin,
  openChannel,
  openNdjson,
  opened,
  stillOpenAfter,
  type OpenStream,
} from '../server/support/stream-clients.js';
import { freshDatabase, startTestServer, type TestServer } from '../server/support/test-server.js';

const db = await freshDatabase();
/** The manager's token re-check period (TokenAuthenticator's default). */
const RECHECK_MS = 5000;
/** Slack for the sweep's store read and the close reaching the client. */
const SLACK_MS = 1500;

describe.skipIf(!db)('revocation across managers on PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let bUrl: string;
  const open: OpenStream[] = [];

  beforeAll(async () => {
    a = await startTestServer({ backend: 'postgres', databaseUrl: db!.url });
    b = await startTestServer({
      backend: 'postgres',
      databaseUrl: db!.url,
      tokens: a.tokens,
      tokenIds: a.tokenIds,
      owner: false,
    });
    bUrl = await b.app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    for (const o of open) o.close();
    await b?.close().catch(() => undefined);
    await a?.close().catch(() => undefined);
    await db?.drop();
  });

  it('closes every stream of the token on B within the re-check period', async () => {
    const agent = await createToken(a.manager, { role: 'agent', host: 'h1' }, 'system:test');
    const viewer = await createToken(a.manager, { role: 'viewer' }, 'system:test');
    const other = await createToken(a.manager, { role: 'agent', host: 'h1' }, 'system:test');
    const watchPath = '/v1/hosts/h1/watch';
    const channel = opened(await openChannel(bUrl.replace(/^http/, 'ws') + watchPath, agent.token));
    const ndjson = opened(await openNdjson(bUrl + watchPath, agent.token));
    const changes = opened(await openNdjson(`${bUrl}/v1/watch`, viewer.token));
    const keep = opened(await openChannel(bUrl.replace(/^http/, 'ws') + watchPath, other.token));
    open.push(channel, ndjson, changes, keep);
    await expect.poll(() => channel.messages.length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => ndjson.messages.length).toBeGreaterThanOrEqual(1);

    const revokedAt = Date.now();
    for (const t of [agent, viewer]) {
      const r = await a.call('DELETE', `/v1/tokens/${t.id}`);
      expect(r.status, r.text).toBe(200);
    }
    const within = RECHECK_MS + SLACK_MS;
    const [ch, nd, wa] = await Promise.all([
      endedWithin(channel, within),
      endedWithin(ndjson, within),
      endedWithin(changes, within),
    ]);
    expect(ch).toMatchObject({ code: CLOSE_TOKEN_REVOKED, reason: 'token revoked' });
    expect(nd.how).toBe('end');
    expect(wa.how).toBe('end');
    for (const e of [ch, nd, wa]) expect(e.at - revokedAt).toBeLessThan(RECHECK_MS + SLACK_MS);

    // B refuses the token now (its cached verification was dropped with the streams).
    expect(await openNdjson(bUrl + watchPath, agent.token)).toMatchObject({ status: 401 });
    expect(await openNdjson(`${bUrl}/v1/watch`, viewer.token)).toMatchObject({ status: 401 });
    expect(await stillOpenAfter(keep, 200)).toBe(true);
  }, 30_000);

  it("the re-check period is the authenticator's: a short one closes sooner", async () => {
    const t = await createToken(a.manager, { role: 'agent', host: 'h2' }, 'system:test');
    const other = await createToken(a.manager, { role: 'agent', host: 'h2' }, 'system:test');
    const auth = new TokenAuthenticator(b.store, Date.now, 200);
    const closed: { id: string; reason: string; at: number }[] = [];
    const release = [t, other].map((x) =>
      auth.hold(x.id, (reason) => closed.push({ id: x.id, reason, at: Date.now() })),
    );
    const r = await a.call('DELETE', `/v1/tokens/${t.id}`);
    expect(r.status, r.text).toBe(200);
    const revokedAt = Date.now();
    await expect.poll(() => closed.length, { timeout: 2000, interval: 20 }).toBe(1);
    expect(closed[0]).toMatchObject({ id: t.id, reason: TOKEN_REVOKED });
    expect(closed[0]!.at - revokedAt).toBeLessThan(200 + 500);
    await new Promise((done) => setTimeout(done, 500));
    expect(closed.map((c) => c.id)).toEqual([t.id]); // once, and only that token's
    release.forEach((f) => f());
  });

  it('a request-path re-check that finds the token revoked closes its connections too', async () => {
    const t = await createToken(a.manager, { role: 'agent', host: 'h3' }, 'system:test');
    let now = 0;
    // A sweep period far beyond the test: only the request path can close.
    const auth = new TokenAuthenticator(b.store, () => now, 60_000);
    const header = `Bearer ${t.token}`;
    await auth.authenticate(header);
    const closed: string[] = [];
    const release = auth.hold(t.id, (reason) => closed.push(reason));
    expect((await a.call('DELETE', `/v1/tokens/${t.id}`)).status).toBe(200);
    now += 60_000;
    await auth.authenticate(header); // stale: served, and re-checked in the background
    await expect.poll(() => closed, { timeout: 2000, interval: 20 }).toEqual([TOKEN_REVOKED]);
    await expect(auth.authenticate(header)).rejects.toMatchObject({
      code: 'VNP_ERR_UNAUTHENTICATED',
    });
    // A connection opened after (a request authenticated just before the revocation).
    const late: string[] = [];
    auth.hold(t.id, (reason) => late.push(reason));
    await expect.poll(() => late, { timeout: 1000, interval: 10 }).toEqual([TOKEN_REVOKED]);
    release();
  });
});
