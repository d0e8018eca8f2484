import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { fakeAgent, hostState as state, RecordingNft } from '../../test/agent/support/fakes.js';
import { Agent } from './agent.js';
import type { Datapath } from './datapath.js';
import { runAgent, type AgentHandle } from './run-agent.js';

interface FakeManager {
  url: string;
  server: Server;
  requests: { url: string; auth: string | undefined }[];
  acks: number[];
  watchers: ServerResponse[];
  /** Writes a state line to the connected watchers. */
  push(s: HostState): void;
  /** Writes any message to the connected watchers. */
  send(msg: unknown): void;
  close(): Promise<void>;
}

async function manager(initial: number, refuseSince = false): Promise<FakeManager> {
  const m: Partial<FakeManager> & {
    requests: FakeManager['requests'];
    watchers: ServerResponse[];
    acks: number[];
  } = { requests: [], watchers: [], acks: [] };
  /** The watchers still connected (`watchers` counts every watch ever opened). */
  const live = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    m.requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (req.url?.startsWith('/v1/hosts/h1/state')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(state(initial)));
    } else if (req.url === '/v1/hosts/h1/ack' && req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        m.acks.push((JSON.parse(body) as { revision: number }).revision);
        res.end('{"ok":true}');
      });
    } else if (
      refuseSince &&
      req.url?.startsWith('/v1/hosts/h1/watch') &&
      req.url.includes('since=')
    ) {
      res.statusCode = 400;
      res.end('{"error":{"code":"VNP_ERR_VALIDATION","message":"querystring since: unknown"}}');
    } else if (req.url?.startsWith('/v1/hosts/h1/watch')) {
      res.setHeader('content-type', 'application/x-ndjson');
      // Like the real manager: the current state at once, then changes.
      res.write(JSON.stringify(state(initial)) + '\n');
      m.watchers.push(res);
      live.add(res);
      res.on('close', () => live.delete(res));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(m, {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    push: (s: HostState) => live.forEach((w) => w.write(JSON.stringify(s) + '\n')),
    send: (msg: unknown) => live.forEach((w) => w.write(JSON.stringify(msg) + '\n')),
    close: () =>
      new Promise<void>((r) => {
        m.watchers.forEach((w) => w.destroy());
        server.closeAllConnections();
        server.close(() => r());
      }),
  }) as FakeManager;
}

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('runAgent', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function start(
    servers: string[],
    idleTimeoutMs?: number,
  ): { handle: AgentHandle; nft: RecordingNft } {
    const { agent, nft } = fakeAgent();
    const handle = runAgent({
      servers,
      host: 'h1',
      token: 'tok',
      underlayIp: '192.0.2.1',
      agent,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
    });
    cleanup.push(() => handle.stop());
    return { handle, nft };
  }

  it('rewrites a program the datapath lost, checking every verifyIntervalMs', async () => {
    const m = await manager(5);
    cleanup.push(() => m.close());
    const applied: number[] = [];
    let lost = false;
    const datapath: Datapath = {
      kind: 'ovs',
      adopt: () => Promise.resolve(undefined),
      applyPolicy: (s) => {
        applied.push(s.revision);
        lost = false;
        return Promise.resolve({ whole: true, changed: true });
      },
      reconcileLinks: () => Promise.resolve({ failures: 0 }),
      sweep: () => Promise.resolve({ killedFlows: 0, resteeredFlows: 0 }),
      removePolicy: () => Promise.resolve(),
      intact: () => Promise.resolve(!lost),
    };
    const agent = new Agent({ host: 'h1', underlayIp: '192.0.2.1', datapath });
    const handle = runAgent({
      servers: [m.url],
      host: 'h1',
      token: 'tok',
      underlayIp: '192.0.2.1',
      agent,
      verifyIntervalMs: 20,
    });
    cleanup.push(() => handle.stop());
    await handle.ready;
    expect(applied).toEqual([5]);
    lost = true; // as after an ovs-vswitchd restart
    await until(() => applied.length === 2);
    expect(applied).toEqual([5, 5]);
    expect(agent.stats.reprograms).toBe(1);
  });

  it('follows the watch stream (first the whole state), acknowledges, sends token and underlay', async () => {
    const m = await manager(5);
    cleanup.push(() => m.close());
    const { handle } = start([m.url]);
    await handle.ready;
    expect(handle.agent.state?.revision).toBe(5);
    await until(() => m.watchers.length === 1);
    m.push(state(6));
    m.push(state(7));
    await until(() => handle.agent.state?.revision === 7);
    // Applied revisions are acknowledged in order; one still queued behind an ack in
    // flight is replaced by the newer one (at most one POST in flight).
    await until(() => m.acks.includes(7));
    expect(m.acks[0]).toBe(5);
    expect(m.acks).toEqual([...m.acks].sort((x, y) => x - y));
    // The first watch of a new agent does not resume: its first message is the state.
    const paths = m.requests.map((r) => r.url).filter((u) => !u.endsWith('/ack'));
    expect(paths).toEqual(['/v1/hosts/h1/watch?underlay=192.0.2.1&kind=nftables']);
    expect(m.requests.every((r) => r.auth === 'Bearer tok')).toBe(true);
  });

  it('keeps the last state when the manager goes away, fails over and resyncs', async () => {
    const a = await manager(10);
    const b = await manager(20);
    cleanup.push(() => b.close());
    const { handle, nft } = start([a.url, b.url]);
    await handle.ready;
    expect(handle.connectedTo).toBe(a.url);
    await a.close();
    // Fail-static: nothing is flushed while disconnected.
    await until(() => handle.agent.state?.revision === 20);
    expect(handle.connectedTo).toBe(b.url);
    expect(handle.syncs).toBe(2);
    expect(
      nft.docs.some(
        (d) => JSON.stringify(d).includes('"delete":{"table"') && d.nftables.length <= 3,
      ),
    ).toBe(false);
  });

  it('reconnects when the watch stream goes silent (no keep-alives)', async () => {
    const m = await manager(3);
    cleanup.push(() => m.close());
    const { handle } = start([m.url], 150);
    await handle.ready;
    // (A watch counts once its answer arrived, after the manager saw the request.)
    await until(() => handle.syncs >= 2, 3000);
    expect(m.requests.filter((r) => r.url.includes('/watch')).length).toBeGreaterThanOrEqual(2);
  });

  it('understands the message envelope: snapshot, heartbeat, delta (folded), resync on a gap', async () => {
    const m = await manager(1);
    cleanup.push(() => m.close());
    const { agent } = fakeAgent();
    const folded: number[] = [];
    const handle = runAgent({
      servers: [m.url],
      host: 'h1',
      token: 'tok',
      underlayIp: '192.0.2.1',
      agent,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      applyDelta: (s, d) => {
        const to = (d as { to: number }).to;
        folded.push(to);
        return { ...s, revision: to };
      },
    });
    cleanup.push(() => handle.stop());
    await handle.ready;
    await until(() => m.watchers.length === 1);
    const send = m.send;
    send({ type: 'snapshot', state: state(2) });
    send({ type: 'heartbeat', revision: 2 });
    send({ type: 'delta', from: 2, to: 3 });
    await until(() => handle.agent.state?.revision === 3);
    expect(folded).toEqual([3]);
    // A delta that does not start at the applied revision: reconnect to the same
    // manager without `since` (a snapshot).
    send({ type: 'delta', from: 7, to: 8 });
    await until(() => m.watchers.length === 2);
    // The manager sees the request before the client has its answer's head.
    await until(() => handle.syncs === 2);
    expect(handle.syncs).toBe(2);
    expect(m.requests.filter((r) => r.url.includes('/watch')).map((r) => r.url)).toEqual([
      '/v1/hosts/h1/watch?underlay=192.0.2.1&kind=nftables',
      '/v1/hosts/h1/watch?underlay=192.0.2.1&kind=nftables',
    ]);
    // A message type it does not know: reconnect (resuming from the applied revision).
    send({ type: 'novel' });
    await until(() => m.watchers.length === 3);
    expect(m.requests.filter((r) => r.url.includes('/watch')).at(-1)?.url).toContain('since=1');
  });

  it('follows a manager that refuses since= without resuming', async () => {
    const m = await manager(4, true);
    cleanup.push(() => m.close());
    const { handle } = start([m.url]);
    await handle.ready;
    await until(() => m.watchers.length === 1);
    // The connection breaks: the agent resumes with since=4, which this manager refuses.
    m.watchers.forEach((w) => w.destroy());
    await until(() => m.watchers.length === 2);
    m.push(state(5));
    await until(() => handle.agent.state?.revision === 5);
    expect(
      m.requests.filter((r) => r.url.includes('/watch')).map((r) => r.url.includes('since=')),
    ).toEqual([false, true, false]);
  });

  it('counts a connection attempt that hangs as silence and fails over', async () => {
    // Accepts TCP connections and never answers.
    const hung = createNetServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const sockets = new Set<Socket>();
    hung.on('connection', (c) => sockets.add(c));
    cleanup.push(async () => {
      for (const c of sockets) c.destroy();
      await new Promise((r) => hung.close(r));
    });
    const m = await manager(9);
    cleanup.push(() => m.close());
    const hungUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const { handle } = start([hungUrl, m.url], 150);
    await handle.ready;
    expect(handle.connectedTo).toBe(m.url);
    expect(handle.agent.state?.revision).toBe(9);
  });

  it('keeps the last state when an apply fails, and applies again on reconnecting', async () => {
    const m = await manager(1);
    cleanup.push(() => m.close());
    const log: string[] = [];
    const { agent, nft } = fakeAgent();
    const handle = runAgent({
      servers: [m.url],
      host: 'h1',
      token: 'tok',
      underlayIp: '192.0.2.1',
      agent,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      log: (msg) => log.push(msg),
    });
    cleanup.push(() => handle.stop());
    await handle.ready;
    await until(() => m.watchers.length === 1);
    nft.failing = true;
    m.push(state(2));
    await until(() => log.some((l) => l.includes('keeping the last state (revision 1)')));
    expect(agent.state?.revision).toBe(1);
    expect(agent.stats.failures).toBe(1);
    expect(m.acks).not.toContain(2);
    // Reconnected, resuming from the applied revision; the next state applies.
    nft.failing = false;
    await until(() => m.watchers.length === 2);
    expect(m.requests.filter((r) => r.url.includes('/watch')).at(-1)?.url).toContain('since=1');
    m.push(state(3));
    await until(() => agent.state?.revision === 3);
    await until(() => m.acks.includes(3));
    expect(m.acks).not.toContain(2);
  });
});
