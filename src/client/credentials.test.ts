import { describe, expect, it } from 'vitest';
import { adminTokenPath, DEFAULT_SERVER, resolveCredentials } from './credentials.js';

const files = (map: Record<string, string>) => (p: string) => {
  const v = map[p];
  if (v === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return v;
};

describe('resolveCredentials', () => {
  it('flags win over the environment and the file', () => {
    const c = resolveCredentials({
      server: 'http://flag:1',
      token: 'flag-token',
      env: { VNP_SERVER: 'http://env:2', VNP_TOKEN: 'env-token' },
      cwd: '/w',
      readFile: files({ '/w/.vnp/admin.token': 'file-token\n' }),
    });
    expect(c).toEqual({ server: 'http://flag:1', token: 'flag-token', tokenSource: 'flag' });
  });

  it('the environment wins over the file', () => {
    const c = resolveCredentials({
      env: { VNP_SERVER: 'http://env:2', VNP_TOKEN: 'env-token' },
      cwd: '/w',
      readFile: files({ '/w/.vnp/admin.token': 'file-token\n' }),
    });
    expect(c).toEqual({ server: 'http://env:2', token: 'env-token', tokenSource: 'env' });
  });

  it('falls back to $VNP_DATA_DIR/admin.token, trimmed', () => {
    const c = resolveCredentials({
      env: { VNP_DATA_DIR: '/var/lib/vnp' },
      readFile: files({ '/var/lib/vnp/admin.token': '  secret\n' }),
    });
    expect(c).toEqual({
      server: DEFAULT_SERVER,
      token: 'secret',
      tokenSource: 'file:/var/lib/vnp/admin.token',
    });
  });

  it('defaults to ./.vnp/admin.token relative to cwd', () => {
    const c = resolveCredentials({
      env: {},
      cwd: '/w',
      readFile: files({ '/w/.vnp/admin.token': 't' }),
    });
    expect(c.token).toBe('t');
    expect(c.tokenSource).toBe('file:/w/.vnp/admin.token');
  });

  it('goes unauthenticated when nothing is found', () => {
    const c = resolveCredentials({ env: {}, cwd: '/nowhere', readFile: files({}) });
    expect(c).toEqual({ server: DEFAULT_SERVER, tokenSource: 'none' });
  });

  it('treats empty values as unset', () => {
    const c = resolveCredentials({
      server: '',
      token: ' ',
      env: { VNP_SERVER: '', VNP_TOKEN: '' },
      cwd: '/w',
      readFile: files({ '/w/.vnp/admin.token': '\n' }),
    });
    expect(c).toEqual({ server: DEFAULT_SERVER, tokenSource: 'none' });
  });

  it('dials VNP_LISTEN when VNP_SERVER is unset (same machine as the manager)', () => {
    expect(
      resolveCredentials({ env: { VNP_LISTEN: '0.0.0.0:7401' }, readFile: files({}) }).server,
    ).toBe('http://127.0.0.1:7401');
    expect(
      resolveCredentials({ env: { VNP_LISTEN: '[::]:7401' }, readFile: files({}) }).server,
    ).toBe('http://[::1]:7401');
    expect(
      resolveCredentials({
        env: { VNP_LISTEN: '127.0.0.1:1', VNP_SERVER: 'http://x:2' },
        readFile: files({}),
      }).server,
    ).toBe('http://x:2');
  });
});

describe('adminTokenPath', () => {
  it('resolves relative data dirs against cwd and keeps absolute ones', () => {
    expect(adminTokenPath(undefined, '/srv')).toBe('/srv/.vnp/admin.token');
    expect(adminTokenPath('data', '/srv')).toBe('/srv/data/admin.token');
    expect(adminTokenPath('/abs', '/srv')).toBe('/abs/admin.token');
  });
});
