import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './support/test-server.js';
import { hasOpenssl, startTlsTestServer, type TlsTestServer } from './support/tls-server.js';

function get(
  url: string,
  ca: Buffer,
  token: string,
): Promise<{ status: number; body: string; hsts: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          hsts: res.headers['strict-transport-security'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(hasOpenssl('TLS test'))('TLS', () => {
  let tls: TlsTestServer;
  let s: TestServer;
  let url: string;
  let cert: Buffer;
  beforeAll(async () => {
    tls = await startTlsTestServer();
    ({ server: s, url, cert } = tls);
  });
  afterAll(async () => {
    await tls?.close();
  });

  it('serves the API over HTTPS with the configured certificate', async () => {
    expect(url).toMatch(/^https:\/\//);
    const r = await get(`${url}/v1/subnets`, cert, s.tokens.viewer);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ items: [], total: 0 });
    // Over TLS the manager asks browsers to stay on HTTPS.
    expect(r.hsts).toMatch(/^max-age=31536000/);
  });
});
