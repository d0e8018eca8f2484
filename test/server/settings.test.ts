import { describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMIT, parseListen, parseSettings } from '../../src/config/settings.js';
import { VnpError } from '../../src/model/errors.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VnpError);
    return (err as VnpError).details?.field as string;
  }
  return undefined;
}

describe('parseSettings', () => {
  it('has the documented defaults', () => {
    expect(parseSettings({})).toEqual({
      listen: { host: '127.0.0.1', port: 7400 },
      dataDir: './.vnp',
      logLevel: 'info',
      bodyLimit: DEFAULT_BODY_LIMIT,
      tokenUseFlushMs: 60_000,
      rateLimit: { max: 100_000, windowMs: 10_000 },
      authFailLimit: { max: 30, windowMs: 60_000 },
      deniedAuditLimit: { max: 5, windowMs: 60_000 },
      corsOrigins: [],
      insecure: false,
      pgliteWorker: false,
      agentMtls: 'off',
    });
    expect(DEFAULT_BODY_LIMIT).toBe(8 * 1024 * 1024);
  });

  it('reads every variable', () => {
    const s = parseSettings({
      VNP_LISTEN: '0.0.0.0:8080',
      VNP_DATA_DIR: '/var/lib/vnp',
      VNP_DATABASE_URL: 'postgres://u@db:5432/vnp',
      VNP_TLS_CERT: '/c.pem',
      VNP_TLS_KEY: '/k.pem',
      VNP_LOG_LEVEL: 'DEBUG',
      VNP_BODY_LIMIT: '1m',
      VNP_TOKEN_USE_FLUSH: '30s',
      VNP_RATE_LIMIT: 'off',
      VNP_AUTH_FAIL_LIMIT: '5/10m',
      VNP_DENIED_AUDIT_LIMIT: '20/10m',
      VNP_CORS_ORIGINS: 'https://ui.example.com, http://127.0.0.1:5173',
      VNP_METRICS_LISTEN: '127.0.0.1:9474',
      VNP_INSECURE: '1',
      VNP_AGENT_MTLS: 'Required',
      VNP_AGENT_CA: '/agent-ca.pem',
      VNP_PGLITE_WORKER: 'true',
    });
    expect(s).toEqual({
      listen: { host: '0.0.0.0', port: 8080 },
      dataDir: '/var/lib/vnp',
      databaseUrl: 'postgres://u@db:5432/vnp',
      tls: { certFile: '/c.pem', keyFile: '/k.pem' },
      logLevel: 'debug',
      bodyLimit: 1024 * 1024,
      tokenUseFlushMs: 30_000,
      authFailLimit: { max: 5, windowMs: 600_000 },
      deniedAuditLimit: { max: 20, windowMs: 600_000 },
      corsOrigins: ['https://ui.example.com', 'http://127.0.0.1:5173'],
      metricsListen: { host: '127.0.0.1', port: 9474 },
      insecure: true,
      agentMtls: 'required',
      agentCaFile: '/agent-ca.pem',
      pgliteWorker: true,
    });
  });

  it('treats empty values as unset', () => {
    expect(parseSettings({ VNP_LISTEN: '', VNP_DATABASE_URL: ' ' }).listen.port).toBe(7400);
    expect(parseSettings({ VNP_DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it.each([
    ['VNP_LISTEN', { VNP_LISTEN: 'localhost:http' }],
    ['VNP_LISTEN', { VNP_LISTEN: 'x:70000' }],
    ['VNP_LISTEN', { VNP_LISTEN: '::1:7400' }],
    ['VNP_LOG_LEVEL', { VNP_LOG_LEVEL: 'loud' }],
    ['VNP_BODY_LIMIT', { VNP_BODY_LIMIT: '0' }],
    ['VNP_BODY_LIMIT', { VNP_BODY_LIMIT: 'lots' }],
    ['VNP_DATABASE_URL', { VNP_DATABASE_URL: 'mysql://x/y' }],
    ['VNP_DATABASE_URL', { VNP_DATABASE_URL: 'not a url' }],
    ['VNP_TLS_KEY', { VNP_TLS_CERT: '/c.pem' }],
    ['VNP_TLS_CERT', { VNP_TLS_KEY: '/k.pem' }],
    ['VNP_RATE_LIMIT', { VNP_RATE_LIMIT: '100' }],
    ['VNP_RATE_LIMIT', { VNP_RATE_LIMIT: '0/1s' }],
    ['VNP_AUTH_FAIL_LIMIT', { VNP_AUTH_FAIL_LIMIT: '5/forever' }],
    ['VNP_DENIED_AUDIT_LIMIT', { VNP_DENIED_AUDIT_LIMIT: '5' }],
    ['VNP_CORS_ORIGINS', { VNP_CORS_ORIGINS: '*' }],
    ['VNP_CORS_ORIGINS', { VNP_CORS_ORIGINS: 'https://ui.example.com/app' }],
    ['VNP_METRICS_LISTEN', { VNP_METRICS_LISTEN: 'x:70000' }],
    ['VNP_INSECURE', { VNP_INSECURE: 'yes please' }],
    ['VNP_PGLITE_WORKER', { VNP_PGLITE_WORKER: 'on' }],
    ['VNP_TOKEN_USE_FLUSH', { VNP_TOKEN_USE_FLUSH: '1ms' }],
    ['VNP_AGENT_MTLS', { VNP_AGENT_MTLS: 'on' }],
    // A CA while mTLS is off would look like protection that is not there.
    ['VNP_AGENT_CA', { VNP_AGENT_CA: '/agent-ca.pem' }],
  ])('names %s in the error', (variable, env) => {
    expect(fieldOf(() => parseSettings(env))).toBe(variable);
  });

  it('parses listen forms', () => {
    expect(parseListen('7401')).toEqual({ host: '127.0.0.1', port: 7401 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('example.org:443')).toEqual({ host: 'example.org', port: 443 });
  });

  it('never echoes a database password in errors', () => {
    try {
      parseSettings({ VNP_DATABASE_URL: 'mysql://u:hunter2@h/db' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
