/**
 * The agent protocol over HTTP against a real manager (PGlite): snapshot then deltas
 * that converge to GET …/state, resume with `since`, a token for another host refused,
 * ACKs in /v1/peps and metrics, `?wait=` (success and timeout), heartbeat timeout on
 * the client, and coalescing of a slow reader on the server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followHost } from '../../src/agent/protocol/follow-host.js';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import type { HostState } from '../../src/model/host-state.js';
import { ndjsonSink, serveHostStream } from '../../src/server/distribution/host-stream.js';
import { HostFeed } from '../../src/server/distribution/host-feed.js';
import type { TestServer } from '../server/support/test-server.js';
import { useFeedServer, type FeedServer, type FollowExtra } from './support/feed-server.js';

let env: FeedServer;
let s: TestServer;
let url: string;
let tokenB: string;

useFeedServer((started) => ({ s, url, tokenB } = env = started));

/** Followers report an underlay address, as the real agent does. */
const follow = (host: string, token: string, extra: FollowExtra = {}) =>
  env.follow(host, token, {
    underlayIp: host === 'host-a' ? '192.0.2.1' : '192.0.2.2',
    ...extra,
  });

async function stateOf(host: string): Promise<HostState> {
  const r = await s.call('GET', `/v1/hosts/${host}/state`, { as: 'viewer' });
  expect(r.status).toBe(200);
  return r.body as HostState;
}

/** Read NDJSON messages from a raw watch until `n` arrived. */
async function readMessages(path: string, token: string, n: number): Promise<HostMessage[]> {
  const ac = new AbortController();
  const res = await fetch(url + path, {
    headers: { authorization: `Bearer ${token}` },
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  const out: HostMessage[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  try {
    while (out.length < n) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) out.push(JSON.parse(line) as HostMessage);
      }
    }
  } finally {
    ac.abort();
  }
  return out;
}

describe('agent protocol over HTTP', () => {
  it('starts with a snapshot, follows with deltas and converges to GET …/state', async () => {
    const a = follow('host-a', s.tokens.agent);
    const b = follow('host-b', tokenB);
    await Promise.all([a.ready, b.ready]);
    for (let i = 0; i < 5; i++) {
      const r = await s.call('PATCH', '/v1/interfaces/web1/tags', {
        as: 'operator',
        body: { set: { round: String(i) } },
      });
      expect(r.status, r.text).toBe(200);
    }
    const r = await s.call('POST', '/v1/interfaces', {
      body: { name: 'cache1', subnet: 'lan', ips: ['10.0.0.30'], tags: { app: 'cache' } },
    });
    expect(r.status, r.text).toBeLessThan(300);
    await Promise.all([a.reach(s.manager.revision), b.reach(s.manager.revision)]);
    expect(a.state).toEqual(await stateOf('host-a'));
    expect(b.state).toEqual(await stateOf('host-b'));
    expect(a.stats.snapshots).toBe(1);
    expect(a.stats.deltas).toBeGreaterThanOrEqual(1);
    // ACKs reach /v1/peps.
    await expect
      .poll(async () => (await s.call('GET', '/v1/peps', { as: 'viewer' })).body.items)
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            host: 'host-a',
            connected: true,
            appliedRevision: s.manager.revision,
            lag: 0,
          }),
        ]),
      );
    const metrics = await s.call('GET', '/metrics', { as: 'viewer' });
    expect(metrics.text).toContain('vnp_change_ack_seconds_count');
    expect(metrics.text).toMatch(/vnp_peps_connected \d/);
    expect(metrics.text).toContain('vnp_pep_oldest_unacked_revision');
  });

  it('resumes from a revision with deltas, and the first message is a snapshot without since', async () => {
    const since = s.manager.revision;
    const before = await stateOf('host-a');
    const r = await s.call('PATCH', '/v1/interfaces/db1/tags', {
      as: 'operator',
      body: { set: { tier: 'gold' } },
    });
    expect(r.status, r.text).toBe(200);
    const msgs = await readMessages(`/v1/hosts/host-a/watch?since=${since}`, s.tokens.agent, 1);
    expect(msgs[0]!.type).toBe('delta');
    if (msgs[0]!.type !== 'delta') return;
    expect(msgs[0]!.from).toBe(since);
    expect(applyHostDelta(before, msgs[0]!)).toEqual(await stateOf('host-a'));
    const fresh = await readMessages('/v1/hosts/host-a/watch', s.tokens.agent, 1);
    expect(fresh[0]!.type).toBe('snapshot');
  });

  it('refuses an agent token for another host', async () => {
    const res = await fetch(`${url}/v1/hosts/host-b/watch`, {
      headers: { authorization: `Bearer ${s.tokens.agent}` },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'VNP_ERR_FORBIDDEN',
    );
    const ack = await s.call('POST', '/v1/hosts/host-b/ack', {
      as: 'agent',
      body: { revision: 1 },
    });
    expect(ack.status).toBe(403);
  });

  it('?wait= returns once the PEPs concerned acknowledged, and 504 with the laggards otherwise', async () => {
    const a = follow('host-a', s.tokens.agent);
    await a.ready;
    const ok = await s.call('PATCH', '/v1/interfaces/web1/tags?wait=5s', {
      as: 'operator',
      body: { set: { waited: 'yes' } },
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.waited.hosts).toBeGreaterThanOrEqual(1);
    expect(ok.body.waited.ms).toBeGreaterThanOrEqual(0);
    expect(a.state!.revision).toBeGreaterThanOrEqual(ok.body.metadata?.revision ?? 0);
    // A PEP that never finishes applying never acknowledges.
    const stuck = follow('host-b', tokenB, { apply: () => new Promise<void>(() => undefined) });
    await expect.poll(() => stuck.connectedTo).toBe(url);
    const late = await s.call('PATCH', '/v1/interfaces/web1/tags?wait=300ms', {
      as: 'operator',
      body: { set: { app: 'web-late' } },
    });
    expect(late.status, late.text).toBe(504);
    expect(late.body.error.code).toBe('VNP_ERR_TIMEOUT');
    expect(late.body.error.details.laggards).toContain('host-b');
    const bad = await s.call('PATCH', '/v1/interfaces/web1/tags?wait=soon', {
      as: 'operator',
      body: { set: { waited: 'x' } },
    });
    expect(bad.status).toBe(400);
    await stuck.stop();
  });
});

describe('protocol client', () => {
  let silent: Server;
  let silentUrl: string;
  beforeAll(async () => {
    silent = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.flushHeaders(); // and then nothing: no heartbeat
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  });

  it('drops a connection without heartbeats and reconnects', async () => {
    const f = followHost({
      servers: [silentUrl],
      host: 'h1',
      token: 't',
      heartbeatTimeoutMs: 100,
      minBackoffMs: 10,
      maxBackoffMs: 20,
    });
    try {
      await expect.poll(() => f.stats.sessions, { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await f.stop();
    }
  });
});

describe('server stream', () => {
  it('coalesces the steps a slow reader missed into one delta, and sends heartbeats', async () => {
    // A feed of its own on the test manager, streaming into a sink nobody reads yet.
    const feed = new HostFeed(() => s.manager.engine);
    feed.reset(s.manager.revision, s.manager.engine.hostDelta());
    const off = s.manager.onRecord((record, delta) =>
      feed.onRecord(record, s.manager.engine.hostDelta(delta)),
    );
    const out = new PassThrough({ highWaterMark: 1, readableHighWaterMark: 1 });
    const lines: string[] = [];
    serveHostStream({ feed, host: 'host-a', sink: ndjsonSink(out), heartbeatMs: 30 });
    // Nobody reads: the first write (the snapshot) fills the buffer.
    for (let i = 0; i < 4; i++) {
      const r = await s.call('PATCH', '/v1/interfaces/web1/tags', {
        as: 'operator',
        body: { set: { slow: String(i) } },
      });
      expect(r.status).toBe(200);
    }
    // Now read everything: snapshot, then one delta spanning the four revisions.
    out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    await expect
      .poll(() => lines.some((l) => l.includes('"heartbeat"')), { timeout: 3000 })
      .toBe(true);
    const msgs = lines.map((l) => JSON.parse(l) as HostMessage);
    const deltas = msgs.filter((m) => m.type === 'delta');
    expect(msgs[0]!.type).toBe('snapshot');
    expect(deltas.length).toBe(1);
    const snap = msgs[0]!.type === 'snapshot' ? msgs[0]!.state : undefined;
    const folded = applyHostDelta(snap!, deltas[0]!.type === 'delta' ? deltas[0]! : never());
    expect(folded).toEqual(feed.snapshot('host-a'));
    out.destroy();
    off();
  });
});

describe('server stream while a group commit is in flight', () => {
  it('sends its first snapshot only once the group is durable (never a model ahead of its revision)', async () => {
    const feed = new HostFeed(() => s.manager.engine, { settled: () => s.manager.settled() });
    feed.reset(s.manager.revision, s.manager.engine.hostDelta());
    const off = s.manager.onRecord((record, delta) =>
      feed.onRecord(record, s.manager.engine.hostDelta(delta)),
    );
    const store = s.manager.store as unknown as Record<string, unknown>;
    const real = s.manager.store.commitGroup.bind(s.manager.store);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    store.commitGroup = async (...args: Parameters<typeof real>) => {
      await gate;
      return real(...args);
    };
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    try {
      const write = s.call('PATCH', '/v1/interfaces/web1/tags', {
        as: 'operator',
        body: { set: { inflight: 'yes' } },
      });
      await expect.poll(() => s.manager.settled() !== undefined, { timeout: 5000 }).toBe(true);
      serveHostStream({ feed, host: 'host-a', sink: ndjsonSink(out), heartbeatMs: 60_000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(lines).toEqual([]);
      open();
      const w = await write;
      expect(w.status, w.text).toBe(200);
      await expect.poll(() => lines.length, { timeout: 3000 }).toBeGreaterThan(0);
      const first = JSON.parse(lines[0]!) as HostMessage;
      expect(first.type).toBe('snapshot');
      expect(first.type === 'snapshot' && first.state.revision).toBe(w.body.revision);
    } finally {
      open();
      store.commitGroup = real;
      out.destroy();
      off();
    }
  });
});

function never(): never {
  throw new Error('unreachable');
}
