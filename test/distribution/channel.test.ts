/**
 * The WebSocket channel of the agent protocol against a real manager (PGlite): the same
 * messages as the NDJSON watch, acknowledgements up the same connection (to /v1/peps and
 * `?wait=`), resume with `since`, authentication and host binding at the upgrade, a
 * malformed upward frame closes the channel, and the agent's client (followHost, which
 * runAgent is built on) still speaks NDJSON + POST …/ack to a manager without the channel.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import type { HostState } from '../../src/model/host-state.js';
import { ackRevision } from '../../src/server/distribution/host-channel.js';
import { openChannel, opened, type OpenStream } from '../server/support/stream-clients.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { useFeedServer, type FeedServer, type FollowExtra } from './support/feed-server.js';

let env: FeedServer;
let s: TestServer;
let url: string;
let wsUrl: string;
let tokenB: string;

useFeedServer((started) => {
  ({ s, url, tokenB } = env = started);
  wsUrl = url.replace(/^http/, 'ws');
});

const follow = (host: string, token: string, extra: FollowExtra = {}) =>
  env.follow(host, token, extra);

async function stateOf(host: string): Promise<HostState> {
  return (await s.call('GET', `/v1/hosts/${host}/state`, { as: 'viewer' })).body as HostState;
}

async function appliedOf(host: string): Promise<number | undefined> {
  const items = (await s.call('GET', '/v1/peps', { as: 'viewer' })).body.items as {
    host: string;
    appliedRevision: number;
  }[];
  return items.find((p) => p.host === host)?.appliedRevision;
}

/** Open a raw channel on this server (or the HTTP answer that refused it). */
const channel = (path: string, token: string | undefined) => openChannel(wsUrl + path, token);
/** The n-th message received, parsed. */
const message = (c: OpenStream, n: number) => JSON.parse(c.messages[n]!) as HostMessage;

describe('agent protocol over the WebSocket channel', () => {
  it('follows snapshot and deltas, acknowledges on the channel (/v1/peps, ?wait=)', async () => {
    const a = follow('host-a', s.tokens.agent, { underlayIp: '192.0.2.1' });
    await a.ready;
    for (let i = 0; i < 3; i++) {
      const r = await s.call('PATCH', '/v1/interfaces/web1/tags?wait=5s', {
        as: 'operator',
        body: { set: { ch: String(i) } },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.waited.hosts).toBeGreaterThanOrEqual(1);
    }
    await a.reach(s.manager.revision);
    expect(a.state).toEqual(await stateOf('host-a'));
    expect(a.stats.channels).toBeGreaterThanOrEqual(1);
    expect(a.stats.deltas).toBeGreaterThanOrEqual(3);
    await expect.poll(() => appliedOf('host-a')).toBe(s.manager.revision);
  });

  it('resumes from a revision with a delta, and starts with a snapshot without since', async () => {
    const since = s.manager.revision;
    const before = await stateOf('host-a');
    const r = await s.call('PATCH', '/v1/interfaces/db1/tags', {
      as: 'operator',
      body: { set: { tier: 'ws' } },
    });
    expect(r.status, r.text).toBe(200);
    const resumed = await channel(`/v1/hosts/host-a/watch?since=${since}`, s.tokens.agent);
    const live = opened(resumed);
    await expect.poll(() => live.messages.length).toBeGreaterThanOrEqual(1);
    const first = message(live, 0);
    expect(first.type).toBe('delta');
    if (first.type === 'delta')
      expect(applyHostDelta(before, first)).toEqual(await stateOf('host-a'));
    // An ack frame moves the PEP's applied revision.
    live.send!(JSON.stringify({ type: 'ack', revision: s.manager.revision }));
    await expect.poll(() => appliedOf('host-a')).toBe(s.manager.revision);
    live.close();
    const fresh = opened(await channel('/v1/hosts/host-a/watch', s.tokens.agent));
    await expect.poll(() => fresh.messages.length).toBeGreaterThanOrEqual(1);
    expect(message(fresh, 0).type).toBe('snapshot');
    fresh.close();
  });

  it('refuses the upgrade without a token, for another host, with a bad query, and elsewhere', async () => {
    const none = await channel('/v1/hosts/host-a/watch', undefined);
    expect('status' in none && none.status).toBe(401);
    const other = await channel('/v1/hosts/host-b/watch', s.tokens.agent);
    expect('status' in other && other.status).toBe(403);
    expect('status' in other && other.body.error?.code).toBe('VNP_ERR_FORBIDDEN');
    const bad = await channel('/v1/hosts/host-a/watch?since=x', s.tokens.agent);
    expect('status' in bad && bad.status).toBe(400);
    const elsewhere = await channel('/v1/nothing-here', s.tokens.agent);
    expect('status' in elsewhere && elsewhere.status).toBe(404);
    // Its own host is fine.
    opened(await channel('/v1/hosts/host-b/watch', tokenB)).close();
  });

  it('closes the channel on an upward frame that is not an acknowledgement', async () => {
    const c = opened(await channel('/v1/hosts/host-a/watch', s.tokens.agent));
    c.send!('{"type":"ack","revision":-1}');
    expect((await c.ended).code).toBe(1008);
  });

  it('still speaks NDJSON with POST …/ack when asked to', async () => {
    const b = follow('host-b', tokenB, { underlayIp: '192.0.2.2', transport: 'ndjson' });
    await b.ready;
    const r = await s.call('PATCH', '/v1/interfaces/db1/tags?wait=5s', {
      as: 'operator',
      body: { set: { tier: 'nd' } },
    });
    expect(r.status, r.text).toBe(200);
    await b.reach(s.manager.revision);
    expect(b.stats.channels).toBe(0);
    expect(b.state).toEqual(await stateOf('host-b'));
    await expect.poll(() => appliedOf('host-b')).toBe(s.manager.revision);
  });
});

describe('clients against a manager without the channel', () => {
  let legacy: Server;
  let legacyUrl: string;
  const state = {
    host: 'h1',
    revision: 7,
    locals: [],
    remotes: [],
    ipcache: [],
    sides: [],
    defaults: [],
  };
  beforeAll(async () => {
    // Answers the upgrade request as the plain NDJSON watch it always was.
    legacy = createServer((req, res) => {
      if (req.method === 'POST') {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ type: 'snapshot', state }) + '\n');
    });
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    legacyUrl = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    legacy.closeAllConnections();
    await new Promise((r) => legacy.close(r));
  });

  it('followHost falls back to NDJSON and acknowledges over HTTP', async () => {
    const acks: number[] = [];
    const f = follow('h1', 't', { servers: [legacyUrl], onAck: (r) => acks.push(r) });
    await f.ready;
    expect(f.state).toEqual(state);
    expect(f.stats.channels).toBe(0);
    await expect.poll(() => acks).toContain(7);
  });
});

describe('closing a manager with open channels', () => {
  it('closes them (the HTTP server would wait for upgraded sockets) and the agent notices', async () => {
    const other = await startTestServer();
    const otherUrl = await other.app.listen({ host: '127.0.0.1', port: 0 });
    const f = follow('host-a', other.tokens.agent, { servers: [otherUrl], minBackoffMs: 1000 });
    await f.ready;
    expect(f.stats.channels).toBe(1);
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect.poll(() => f.connectedTo).toBeUndefined();
  }, 30_000);
});

describe('a silent channel', () => {
  it('is dropped after the heartbeat timeout and reconnected', async () => {
    // Accepts the channel and then says nothing: no heartbeat.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as AddressInfo).port;
    const f = follow('h1', 't', {
      servers: [`http://127.0.0.1:${port}`],
      heartbeatTimeoutMs: 100,
      minBackoffMs: 10,
      maxBackoffMs: 20,
    });
    try {
      await expect.poll(() => f.stats.channels, { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await f.stop();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('ackRevision', () => {
  it('reads an ack frame and rejects anything else', () => {
    expect(ackRevision('{"type":"ack","revision":42}')).toBe(42);
    expect(ackRevision('{"type":"ack","revision":0}')).toBe(0);
    for (const bad of [
      '',
      'x',
      '[]',
      'null',
      '{"type":"ack"}',
      '{"type":"ack","revision":-1}',
      '{"type":"ack","revision":1.5}',
      '{"type":"nack","revision":1}',
      '{"type":"ack","revision":"1"}',
    ])
      expect(ackRevision(bad)).toBeUndefined();
  });
});
