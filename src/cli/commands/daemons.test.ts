import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContext } from '../context.js';
import { resolveAgentOptions, splitServers } from './daemons.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnp-agent-opts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ctx = (env: Record<string, string> = {}) =>
  createContext({ env, stdout: { write: () => true }, stderr: { write: () => true }, cwd: dir });

describe('splitServers', () => {
  it('splits on commas and drops blanks', () => {
    expect(splitServers('http://a:1, http://b:2,,')).toEqual(['http://a:1', 'http://b:2']);
  });
});

describe('resolveAgentOptions', () => {
  it('reads the token file (relative to cwd), normalises managers, keeps the underlay given', async () => {
    writeFileSync(join(dir, 'agent.token'), 'vnp_abc_secret\n');
    const r = await resolveAgentOptions(
      { host: 'host-a', tokenFile: 'agent.token', underlayIp: '192.0.2.10' },
      { server: 'm1:7400,https://m2:7400/' },
      ctx(),
    );
    expect(r).toEqual({
      servers: ['http://m1:7400', 'https://m2:7400'],
      host: 'host-a',
      token: 'vnp_abc_secret',
      underlayIp: '192.0.2.10',
    });
  });

  it('takes --deny-log-rate as a whole number, and refuses anything else naming the flag', async () => {
    const r = await resolveAgentOptions(
      { host: 'h', underlayIp: '192.0.2.1', denyLogRate: '50' },
      { server: 'http://m:7400', token: 't' },
      ctx(),
    );
    expect(r.denyLogRate).toBe(50);
    for (const bad of ['-1', '1.5', 'lots', '9999999'])
      await expect(
        resolveAgentOptions(
          { host: 'h', underlayIp: '192.0.2.1', denyLogRate: bad },
          { server: 'http://m:7400', token: 't' },
          ctx(),
        ),
      ).rejects.toMatchObject({ details: { field: 'deny-log-rate' } });
  });

  it('takes managers and token from the environment', async () => {
    const r = await resolveAgentOptions(
      { host: 'h', underlayIp: '192.0.2.1' },
      {},
      ctx({ VNP_SERVER: 'http://m:7400', VNP_TOKEN: 't0k' }),
    );
    expect(r.servers).toEqual(['http://m:7400']);
    expect(r.token).toBe('t0k');
  });

  it('guesses an underlay address when none is given, or says it needs one', async () => {
    // A host with no non-loopback interface has nothing to guess from.
    const r = await resolveAgentOptions(
      { host: 'h' },
      { server: 'http://127.0.0.1:7400', token: 't' },
      ctx(),
    ).catch((e: Error) => e);
    if (r instanceof Error) expect(r.message).toContain('--underlay-ip is required');
    else expect(r.underlayIp).toMatch(/^[0-9a-f.:]+$/i);
  });

  it('takes --datapath ovs with a bridge, and refuses what does not fit', async () => {
    const given = (flags: Record<string, string>) =>
      resolveAgentOptions(
        { host: 'h', underlayIp: '192.0.2.1', ...flags },
        { server: 'http://m', token: 't' },
        ctx(),
      );
    expect((await given({ datapath: 'ovs', bridge: 'vnpbr' })).ovs).toEqual({
      bridge: 'vnpbr',
      rundir: '/var/run/openvswitch',
    });
    expect((await given({})).ovs).toBeUndefined();
    await expect(given({ datapath: 'ovs' })).rejects.toThrow('--datapath ovs needs --bridge NAME');
    await expect(given({ datapath: 'vpp' })).rejects.toThrow(
      '--datapath vpp: expected nftables or ovs',
    );
    await expect(given({ bridge: 'br0' })).rejects.toThrow('--bridge needs --datapath ovs');
    await expect(given({ datapath: 'ovs', bridge: 'a;b' })).rejects.toThrow(
      /--bridge a;b: expected/,
    );
  });

  it('refuses an empty token file', async () => {
    writeFileSync(join(dir, 'empty.token'), '\n');
    await expect(
      resolveAgentOptions(
        { host: 'h', tokenFile: 'empty.token', underlayIp: '192.0.2.1' },
        { server: 'http://m' },
        ctx(),
      ),
    ).rejects.toThrow('--token-file empty.token is empty');
  });

  it('reads --cert-file and --key-file (or VNP_CERT_FILE/VNP_KEY_FILE), both or neither', async () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n';
    writeFileSync(join(dir, 'a.pem'), cert);
    writeFileSync(join(dir, 'a.key'), key);
    const base = { host: 'h', underlayIp: '192.0.2.1' };
    const g = { server: 'https://m:7400', token: 't' };
    const r = await resolveAgentOptions({ ...base, certFile: 'a.pem', keyFile: 'a.key' }, g, ctx());
    expect(r.clientCert).toEqual({ cert, key });
    const env = await resolveAgentOptions(
      base,
      g,
      ctx({ VNP_CERT_FILE: join(dir, 'a.pem'), VNP_KEY_FILE: join(dir, 'a.key') }),
    );
    expect(env.clientCert).toEqual({ cert, key });
    expect((await resolveAgentOptions(base, g, ctx())).clientCert).toBeUndefined();
    for (const [flags, field] of [
      [{ certFile: 'a.pem' }, 'key-file'],
      [{ keyFile: 'a.key' }, 'cert-file'],
      [{ certFile: 'a.key', keyFile: 'a.key' }, 'cert-file'],
      [{ certFile: 'a.pem', keyFile: 'a.pem' }, 'key-file'],
      [{ certFile: 'missing.pem', keyFile: 'a.key' }, 'cert-file'],
    ] as const)
      await expect(resolveAgentOptions({ ...base, ...flags }, g, ctx())).rejects.toMatchObject({
        details: { field },
      });
  });
});
