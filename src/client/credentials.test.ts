import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
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

  it('treats an empty server and an empty admin.token as unset', () => {
    const c = resolveCredentials({
      server: '',
      env: { VNP_SERVER: '' },
      cwd: '/w',
      readFile: files({ '/w/.vnp/admin.token': '\n' }),
    });
    expect(c).toEqual({ server: DEFAULT_SERVER, tokenSource: 'none' });
  });

  // Regression (issue 16): `--token ""` and `VNP_TOKEN=` fell back to admin.token
  // and acted as admin; a token with a newline read as "cannot reach the manager".
  const admin = { cwd: '/w', readFile: files({ '/w/.vnp/admin.token': 'admin-secret\n' }) };
  it.each([
    ['--token ""', { token: '', env: {} }, /^--token is empty/],
    ['--token " "', { token: ' ', env: {} }, /^--token is empty/],
    ['VNP_TOKEN=', { env: { VNP_TOKEN: '' } }, /^VNP_TOKEN is empty/],
    ['a newline inside', { token: 'abc\ndef', env: {} }, /^--token: a token is one word/],
    ['a tab in VNP_TOKEN', { env: { VNP_TOKEN: 'a\tb' } }, /^VNP_TOKEN: a token is one word/],
  ])('%s is an error, never the admin token', (_name, opts, message) => {
    const run = () => resolveCredentials({ ...admin, ...opts });
    expect(run).toThrow(VnpError);
    expect(run).toThrow(message);
  });

  it('a token file with a newline inside is an error naming the file', () => {
    expect(() =>
      resolveCredentials({
        env: {},
        cwd: '/w',
        readFile: files({ '/w/.vnp/admin.token': 'a\nb\n' }),
      }),
    ).toThrow(/^\/w\/\.vnp\/admin\.token: a token is one word/);
  });

  it('a trailing newline (`$(cat file)`, a file) is not part of the token', () => {
    expect(resolveCredentials({ env: { VNP_TOKEN: 't0k\n' } }).token).toBe('t0k');
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
