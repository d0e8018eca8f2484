/**
 * The kernel agent's loop (src/agent/run-agent.ts) against a real manager speaking the
 * delta protocol: it starts from a full state, folds deltas into the same states the
 * manager computes, acknowledges them, and resumes with `since` after a reconnect.
 * The kernel is a recording stand-in (no root needed).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { NftBackend } from '../../src/agent/nft/apply.js';
import { runAgent } from '../../src/agent/run-agent.js';
import type { HostState } from '../../src/model/host-state.js';
import { startAttachedModelServer, type TestServer } from '../server/support/test-server.js';

let s: TestServer;
let url: string;
/** A TCP relay in front of the manager: dropping its sockets is a network failure. */
let relay: Server;
let relayUrl: string;
const relayed = new Set<Socket>();

beforeAll(async () => {
  ({ s, url } = await startAttachedModelServer());
  const port = Number(new URL(url).port);
  relay = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      relayed.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        relayed.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  for (const c of relayed) c.destroy();
  await new Promise((resolve) => relay?.close(resolve));
  await s?.close();
});

class RecordingNft implements NftBackend {
  applies = 0;
  async apply(): Promise<void> {
    this.applies++;
  }
  async list() {
    return undefined;
  }
  async flush(): Promise<void> {}
}

describe('runAgent over the delta protocol', () => {
  it('follows changes as deltas, acknowledges them and resumes after a reconnect', async () => {
    const nft = new RecordingNft();
    const agent = new Agent({
      host: 'host-a',
      underlayIp: '192.0.2.1',
      nft,
      links: false,
      killDeniedFlows: false,
    });
    const handle = runAgent({
      servers: [relayUrl],
      host: 'host-a',
      token: s.tokens.agent,
      underlayIp: '192.0.2.1',
      agent,
      minBackoffMs: 20,
      maxBackoffMs: 100,
    });
    try {
      await handle.ready;
      const truth = async () =>
        (await s.call('GET', '/v1/hosts/host-a/state', { as: 'viewer' })).body as HostState;
      for (const app of ['web-2', 'web']) {
        const r = await s.call('PATCH', '/v1/interfaces/web1/tags?wait=5s', {
          as: 'operator',
          body: { set: { app } },
        });
        expect(r.status, r.text).toBe(200);
        expect(r.body.waited.hosts).toBe(1);
        expect(agent.state).toEqual(await truth());
      }
      // Drop every connection (the watch channel included): the agent reconnects
      // with since=<applied revision>.
      for (const c of relayed) c.destroy();
      await s.call('PATCH', '/v1/interfaces/db1/tags', {
        as: 'operator',
        body: { set: { tier: 'x' } },
      });
      await expect
        .poll(async () => agent.state?.revision, { timeout: 10_000 })
        .toBe(s.manager.revision);
      expect(agent.state).toEqual(await truth());
      expect(handle.syncs).toBeGreaterThanOrEqual(2);
      await expect
        .poll(
          async () =>
            (
              (await s.call('GET', '/v1/peps', { as: 'viewer' })).body.items as {
                host: string;
                appliedRevision: number;
              }[]
            ).find((p) => p.host === 'host-a')?.appliedRevision,
        )
        .toBe(s.manager.revision);
    } finally {
      await handle.stop();
    }
  }, 60_000);
});
