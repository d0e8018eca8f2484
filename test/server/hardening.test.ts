/**
 * HTTP hardening against a real manager: security headers, CORS off by default and
 * an allow-list when configured, failed-authentication limits (per client address,
 * per token id) before scrypt, a per-token request rate, /metrics behind a token or
 * on its own address, and plain HTTP refused off loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/settings.js';
import { VnpError } from '../../src/model/errors.js';
import { isLoopback, runServer } from '../../src/server/run-server.js';
import { startTestServer, type TestServer } from './support/test-server.js';

describe('security headers and CORS (defaults)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('API answers: nosniff, no-store, a strict CSP, no HSTS over plain HTTP', async () => {
    for (const [url, as] of [
      ['/v1/subnets', 'viewer'],
      ['/v1/nope', 'viewer'],
      ['/v1/subnets', null],
      ['/healthz', null],
    ] as const) {
      const r = await s.call('GET', url, { as });
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      expect(r.headers['cache-control'], url).toBe('no-store');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(r.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('CORS is off: no Access-Control-Allow-Origin, preflights are not granted', async () => {
    const get = await s.call('GET', '/v1/subnets', {
      as: 'viewer',
      headers: { origin: 'https://evil.example' },
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await s.app.inject({
      method: 'OPTIONS',
      url: '/v1/subnets',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS allow-list, rate limits', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      settings: {
        corsOrigins: ['https://ui.example.com'],
        authFailLimit: { max: 3, windowMs: 60_000 },
        rateLimit: { max: 8, windowMs: 60_000 },
      },
    });
  });
  afterAll(async () => s?.close());

  const from = (ip: string, authorization: string) =>
    s.app.inject({
      method: 'GET',
      url: '/v1/subnets',
      remoteAddress: ip,
      headers: { authorization },
    });

  it('grants only the listed origin', async () => {
    const ok = await s.call('GET', '/healthz', {
      as: null,
      headers: { origin: 'https://ui.example.com' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://ui.example.com');
    const other = await s.call('GET', '/healthz', {
      as: null,
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('failed authentications per client address: the 4th guess is 429 before any scrypt', async () => {
    const bad = `Bearer vnp_${s.tokenIds.operator}_wrong`;
    for (let i = 0; i < 3; i++) expect((await from('10.9.0.1', bad)).statusCode).toBe(401);
    const blocked = await from('10.9.0.1', `Bearer vnp_0123456789abcdef_guess`);
    expect(blocked.statusCode).toBe(429);
    expect(JSON.parse(blocked.body).error.code).toBe('VNP_ERR_RATE_LIMITED');
    expect(JSON.parse(blocked.body).error.message).toMatch(/client 10\.9\.0\.1/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected by this one's failures.
    expect((await from('10.9.0.2', `Bearer ${s.tokens.viewer}`)).statusCode).toBe(200);
  });

  it('failed authentications per token id, from many addresses; its owner is not locked out', async () => {
    // The agent token is verified (cached) before the guessing starts.
    expect((await from('10.8.0.1', `Bearer ${s.tokens.agent}`)).statusCode).toBe(403);
    const guess = `Bearer vnp_${s.tokenIds.agent}_guess`;
    for (let i = 0; i < 3; i++) expect((await from(`10.7.0.${i}`, guess)).statusCode).toBe(401);
    // The id is over its limit: an address that failed before is refused for it at once.
    const blocked = await from('10.7.0.0', guess);
    expect(blocked.statusCode).toBe(429);
    expect(JSON.parse(blocked.body).error.message).toContain(`token id ${s.tokenIds.agent}`);
    expect((await from('10.8.0.1', `Bearer ${s.tokens.agent}`)).statusCode).toBe(403);
    // The operator's id took three wrong guesses earlier: its owner, from a clean
    // address, is still verified.
    expect((await from('10.5.0.1', `Bearer ${s.tokens.operator}`)).statusCode).toBe(200);
  });

  it('a per-token request rate: the 9th request in the window is 429, other tokens go on', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 9; i++)
      codes.push((await from('10.6.0.1', `Bearer ${s.tokens.operator}`)).statusCode);
    // One request of the operator's went in the test before.
    expect(codes.slice(0, 7)).toEqual(Array(7).fill(200));
    expect(codes[7]).toBe(429);
    const again = await from('10.6.0.2', `Bearer ${s.tokens.operator}`);
    expect(JSON.parse(again.body).error.message).toMatch(/requests of token/);
    expect(again.headers['retry-after']).toBeDefined();
    expect((await from('10.6.0.1', `Bearer ${s.tokens.admin}`)).statusCode).toBe(200);
  });
});

describe('listening', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnp-harden-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
  ])('isLoopback(%s) = %s', (host, loop) => {
    expect(isLoopback(host)).toBe(loop);
  });

  it('refuses plain HTTP off loopback unless VNP_INSECURE=1', async () => {
    const env = { VNP_LISTEN: '0.0.0.0:0', VNP_DATA_DIR: dir, VNP_LOG_LEVEL: 'silent' };
    const e = await runServer(parseSettings(env), { handleSignals: false }).catch((x) => x);
    expect(e).toBeInstanceOf(VnpError);
    expect((e as VnpError).message).toMatch(
      /VNP_LISTEN: refusing plain HTTP on 0\.0\.0\.0.*VNP_INSECURE=1/,
    );
    const ok = await runServer(parseSettings({ ...env, VNP_INSECURE: '1' }), {
      handleSignals: false,
      print: () => undefined,
    });
    await ok.stop();
  });

  it('VNP_METRICS_LISTEN serves /metrics there without a token, and not on the API address', async () => {
    const m = await runServer(
      parseSettings({
        VNP_LISTEN: '127.0.0.1:0',
        VNP_METRICS_LISTEN: '127.0.0.1:0',
        VNP_DATA_DIR: dir,
        VNP_LOG_LEVEL: 'silent',
      }),
      { handleSignals: false, print: () => undefined },
    );
    try {
      const scraped = await fetch(`${m.metricsUrl!}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('vnp_revision');
      expect((await fetch(`${m.metricsUrl!}/v1/subnets`)).status).toBe(404);
      const api = await m.app.inject({ method: 'GET', url: '/metrics' });
      expect(api.statusCode).toBe(404);
    } finally {
      await m.stop();
    }
  });
});
