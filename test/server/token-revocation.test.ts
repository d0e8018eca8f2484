/**
 * Revoking a token ends every long-lived connection it opened, at once, on the manager
 * that revokes it (real manager on PGlite, real sockets): the agent's NDJSON watch and
 * its WebSocket channel (close 4401 "token revoked"), and a person's `/v1/watch`; the
 * reconnect with the revoked token is refused with 401; connections of other tokens
 * stay open.
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
} from './support/stream-clients.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
let wsUrl: string;
const open: OpenStream[] = [];

beforeAll(async () => {
  s = await startTestServer();
  url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  wsUrl = url.replace(/^http/, 'ws');
}, 60_000);
afterAll(async () => {
  for (const o of open) o.close();
  await s?.close();
});

async function agentToken(host: string): Promise<{ id: string; token: string }> {
  return createToken(s.manager, { role: 'agent', host }, 'system:test');
}

async function revoke(id: string): Promise<number> {
  const r = await s.call('DELETE', `/v1/tokens/${id}`);
  expect(r.status, r.text).toBe(200);
  return Date.now();
}

function track(o: OpenStream): OpenStream {
  open.push(o);
  return o;
}

describe('revoking a token closes its open streams on this manager', () => {
  it('ends an NDJSON host watch at once; the reconnect gets 401', async () => {
    const t = await agentToken('host-a');
    const other = await agentToken('host-a');
    const watchUrl = `${url}/v1/hosts/host-a/watch`;
    const w = track(opened(await openNdjson(watchUrl, t.token)));
    const keep = track(opened(await openNdjson(watchUrl, other.token)));
    await expect.poll(() => w.messages.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(w.messages[0]!).type).toBe('snapshot');

    const at = await revoke(t.id);
    const end = await endedWithin(w, 2000);
    expect(end.how).toBe('end'); // a clean end of the body, not a cut connection
    expect(end.at - at).toBeLessThan(1000);

    const again = await openNdjson(watchUrl, t.token);
    expect(again).toMatchObject({
      status: 401,
      body: { error: { code: 'VNP_ERR_UNAUTHENTICATED' } },
    });
    expect(await stillOpenAfter(keep, 200)).toBe(true);
  });

  it('closes a WebSocket channel with 4401 "token revoked"; the reconnect gets 401', async () => {
    const t = await agentToken('host-b');
    const other = await agentToken('host-b');
    const chUrl = `${wsUrl}/v1/hosts/host-b/watch`;
    const c = track(opened(await openChannel(chUrl, t.token)));
    const keep = track(opened(await openChannel(chUrl, other.token)));
    await expect.poll(() => c.messages.length).toBeGreaterThanOrEqual(1);

    const at = await revoke(t.id);
    const end = await endedWithin(c, 2000);
    expect(end).toMatchObject({ how: 'close', code: CLOSE_TOKEN_REVOKED, reason: 'token revoked' });
    expect(end.at - at).toBeLessThan(1000);

    const again = await openChannel(chUrl, t.token);
    expect(again).toMatchObject({
      status: 401,
      body: { error: { code: 'VNP_ERR_UNAUTHENTICATED' } },
    });
    expect(await stillOpenAfter(keep, 200)).toBe(true);
    // The surviving channel still carries messages: a change reaches it.
    const before = keep.messages.length;
    const r = await s.call('POST', '/v1/subnets', { body: { name: 'lan', cidr: '10.0.0.0/24' } });
    expect(r.status, r.text).toBe(201);
    await expect.poll(() => keep.messages.length).toBeGreaterThan(before);
  });

  it('ends a /v1/watch change stream of a revoked viewer token', async () => {
    const viewer = await createToken(s.manager, { role: 'viewer' }, 'system:test');
    const w = track(opened(await openNdjson(`${url}/v1/watch?since=0`, viewer.token)));
    const keep = track(opened(await openNdjson(`${url}/v1/watch`, s.tokens.viewer)));

    const at = await revoke(viewer.id);
    const end = await endedWithin(w, 2000);
    expect(end.how).toBe('end');
    expect(end.at - at).toBeLessThan(1000);

    const again = await openNdjson(`${url}/v1/watch`, viewer.token);
    expect(again).toMatchObject({ status: 401 });
    // The other viewer's watch goes on and sees the revocation's audit record.
    await expect
      .poll(() => keep.messages.some((m) => m.includes(`token.revoke id=${viewer.id}`)))
      .toBe(true);
    expect(await stillOpenAfter(keep, 100)).toBe(true);
  });

  it('a connection held after its token was revoked here is closed at once', async () => {
    // A request authenticated just before the revocation can open its stream just after.
    const auth = new TokenAuthenticator(s.store, Date.now);
    const closed: string[] = [];
    const before = auth.hold('t1', (reason) => closed.push(`before: ${reason}`));
    auth.revoked('t1');
    expect(closed).toEqual([`before: ${TOKEN_REVOKED}`]);
    auth.hold('t1', (reason) => closed.push(`after: ${reason}`));
    await expect.poll(() => closed.length).toBe(2);
    expect(closed[1]).toBe(`after: ${TOKEN_REVOKED}`);
    before(); // releasing after the close is harmless
  });

  it('revoking an already revoked token is harmless', async () => {
    const t = await agentToken('host-a');
    await revoke(t.id);
    await revoke(t.id);
  });
});
