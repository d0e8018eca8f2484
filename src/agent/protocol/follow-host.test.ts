import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hostState as state } from '../../../test/agent/support/fakes.js';
import { followHost, type HostFollower } from './follow-host.js';

/** An NDJSON-only manager (no channel): `first` is written on every watch. */
async function ndjsonManager(first: unknown) {
  const acks: number[] = [];
  const watches: string[] = [];
  const live = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        acks.push((JSON.parse(body) as { revision: number }).revision);
        res.end('{"ok":true}');
      });
      return;
    }
    watches.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(JSON.stringify(first) + '\n');
    live.add(res);
    res.on('close', () => live.delete(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    acks,
    watches,
    send: (msg: unknown) => live.forEach((w) => w.write(JSON.stringify(msg) + '\n')),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('followHost', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const follow = (url: string, extra: Parameters<typeof followHost>[0]['apply'] = undefined) => {
    const f: HostFollower = followHost({
      servers: [url],
      host: 'h1',
      token: 't',
      minBackoffMs: 10,
      maxBackoffMs: 20,
      apply: extra,
    });
    cleanup.push(() => f.stop());
    return f;
  };

  it('hands every new revision to apply, saying whether policy changed, and acks it after', async () => {
    const m = await ndjsonManager({ type: 'snapshot', state: state(1) });
    cleanup.push(m.close);
    const applied: [number, boolean][] = [];
    let release: () => void = () => undefined;
    const f = follow(m.url, (s, changed) => {
      applied.push([s.revision, changed]);
      if (s.revision === 3) return new Promise<void>((r) => (release = r));
    });
    await f.ready;
    m.send({ type: 'heartbeat', revision: 1 });
    m.send({ type: 'delta', from: 1, to: 2 }); // nothing changed for this host
    m.send({
      type: 'delta',
      from: 2,
      to: 3,
      defaults: [{ identity: 300, other: 'deny', peers: [] }],
    });
    await expect.poll(() => applied.length).toBe(3);
    expect(applied).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    // Revision 3 is being applied: it is neither the state nor acknowledged yet.
    await expect.poll(() => m.acks.at(-1)).toBe(2);
    expect(f.state?.revision).toBe(2);
    release();
    await f.reach(3, 2000);
    await expect.poll(() => m.acks.at(-1)).toBe(3);
    expect(f.stats).toMatchObject({ snapshots: 1, deltas: 2, heartbeats: 1, resyncs: 0 });
  });

  it('takes the bare HostState lines of a manager that predates the envelope as snapshots', async () => {
    const m = await ndjsonManager(state(4));
    cleanup.push(m.close);
    const f = follow(m.url);
    await f.ready;
    expect(f.state).toEqual(state(4));
    m.send(state(5, { defaults: [{ identity: 300, other: 'deny', peers: [] }] }));
    await f.reach(5, 2000);
    expect(f.state?.defaults).toHaveLength(1);
    await expect.poll(() => m.acks.at(-1)).toBe(5);
  });

  it('lets an apply outlive its session: the next one waits for it and resumes from it', async () => {
    const m = await ndjsonManager({ type: 'snapshot', state: state(1) });
    cleanup.push(m.close);
    let release: (() => void) | undefined;
    const f = follow(m.url, (s) =>
      s.revision === 2 ? new Promise<void>((r) => (release = r)) : undefined,
    );
    await f.ready;
    m.send({ type: 'delta', from: 1, to: 2 });
    await expect.poll(() => release).toBeDefined();
    f.drop();
    await new Promise((r) => setTimeout(r, 100)); // several backoffs
    expect(m.watches).toHaveLength(1);
    release!();
    await expect.poll(() => m.watches.length).toBe(2);
    expect(m.watches[1]).toContain('since=2');
  });
});
