/**
 * The WebSocket channel over HTTPS (a manager with `tls` settings): the upgrade is
 * routed and authenticated like on plain HTTP, and messages and ACKs flow over `wss:`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HostMessage } from '../../src/model/host-delta.js';
import type { TestServer } from '../server/support/test-server.js';
import {
  hasOpenssl,
  startTlsTestServer,
  type TlsTestServer,
} from '../server/support/tls-server.js';

describe.runIf(hasOpenssl('channel TLS test'))('WebSocket channel over TLS', () => {
  let tls: TlsTestServer;
  let s: TestServer;
  let url: string;
  let cert: Buffer;
  beforeAll(async () => {
    tls = await startTlsTestServer();
    ({ server: s, url, cert } = tls);
  }, 60_000);
  afterAll(async () => {
    await tls?.close();
  });

  it('streams a snapshot over wss: and takes ACK frames', async () => {
    expect(url).toMatch(/^https:\/\//);
    const ws = new WebSocket(`${url.replace(/^https/, 'wss')}/v1/hosts/host-a/watch`, {
      ca: cert,
      headers: { authorization: `Bearer ${s.tokens.agent}` },
    });
    try {
      const first = await new Promise<HostMessage>((resolve, reject) => {
        ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as HostMessage));
        ws.once('error', reject);
      });
      expect(first.type).toBe('snapshot');
      const revision = first.type === 'snapshot' ? first.state.revision : -1;
      ws.send(JSON.stringify({ type: 'ack', revision }));
      await expect
        .poll(async () => {
          const items = (await s.call('GET', '/v1/peps', { as: 'viewer' })).body.items as {
            host: string;
            connected: boolean;
          }[];
          return items.find((p) => p.host === 'host-a')?.connected;
        })
        .toBe(true);
    } finally {
      ws.terminate();
    }
  });
});
