/**
 * The WebSocket channel over HTTPS (a manager with `tls` settings): the upgrade is
 * routed and authenticated like on plain HTTP, and messages and ACKs flow over `wss:`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HostMessage } from '../../src/model/host-delta.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';

/** openssl makes the self-signed certificate; without it the test cannot run. */
function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('openssl is required in CI for the TLS test');
    console.warn('\n*** SKIPPING channel TLS test: openssl not found ***\n');
    return false;
  }
}

describe.runIf(hasOpenssl())('WebSocket channel over TLS', () => {
  let dir: string;
  let s: TestServer;
  let url: string;
  let cert: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnp-channel-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'],
        ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    cert = await readFile(certFile);
    s = await startTestServer({ settings: { tls: { certFile, keyFile } } });
    url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await rm(dir, { recursive: true, force: true });
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
