/**
 * Regression tests for the defects a new user met (issue 16 §3), each through the
 * real CLI against a real manager (in-process, PGlite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type InProcessCli } from './in-process.js';

let cli: InProcessCli;

beforeAll(async () => {
  cli = await startCli();
  const r = await cli.vnp(['apply', '-f', 'examples/three-tier'], { cwd: process.cwd() });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => cli?.close());

const revision = async (): Promise<number> => cli.server.manager.revision;

/** One `error: CODE: …` line on stderr, nothing on stdout, a non-zero exit. */
function failsWith(r: { code: number; stdout: string; stderr: string }, code: string): string {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error: ${code}: `));
  return lines[0]!;
}

describe('tokens', () => {
  it.each([
    ['--token ""', ['--token', ''], {}],
    ['VNP_TOKEN=', [], { VNP_TOKEN: '' }],
    ['a token with a newline', ['--token', 'abc\ndef'], {}],
  ])('%s is a bad token, never the admin token', async (_name, flags, env) => {
    // The admin.token fallback would be found in cwd: it must not be used.
    const r = await cli.vnp([...flags, 'get', 'iface'], { env });
    expect(failsWith(r, 'VNP_ERR_VALIDATION')).toMatch(/token/i);
  });
});

describe('events', () => {
  it('an event about no record and no address fails like check and stores nothing', async () => {
    const before = (await cli.server.call('GET', '/v1/events')).body.items.length as number;
    const rev = await revision();
    const r = await cli.vnp(['event', 'ids-alert', '--target', 'nosuch']);
    expect(failsWith(r, 'VNP_ERR_UNKNOWN_ENDPOINT')).toContain('target: "nosuch"');
    const res = await cli.server.call('POST', '/v1/events', {
      as: 'operator',
      body: { type: 'ids-alert', target: 'nosuch' },
    });
    expect(res.status).toBe(422);
    expect((await cli.server.call('GET', '/v1/events')).body.items).toHaveLength(before);
    expect(await revision()).toBe(rev);
  });
});

describe('queries name the right field', () => {
  it('who-can-reach nosuch names dst', async () => {
    const line = failsWith(await cli.vnp(['who-can-reach', 'nosuch']), 'VNP_ERR_UNKNOWN_ENDPOINT');
    expect(line).toContain('dst: "nosuch"');
  });

  it('check --proto icmp --port 8 is refused (policies have no ICMP types)', async () => {
    const line = failsWith(
      await cli.vnp(['check', 'web-1', 'app-1', '--proto', 'icmp', '--port', '8']),
      'VNP_ERR_VALIDATION',
    );
    expect(line).toMatch(/port: icmp has no ports/);
    expect((await cli.vnp(['check', 'web-1', 'app-1', '--proto', 'icmp'])).code).toBe(0);
    const api = await cli.server.call('POST', '/v1/check', {
      body: { src: 'web-1', dst: 'app-1', protocol: 'icmp', port: 8 },
    });
    expect(api.status).toBe(400);
  });
});

describe('no-op writes', () => {
  it('tag with a value the record has and untag of an absent key create no revision', async () => {
    expect((await cli.vnp(['tag', 'web-1', 'canary=yes'])).code).toBe(0);
    const rev = await revision();
    const same = await cli.vnp(['tag', 'web-1', 'canary=yes']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/web-1 unchanged: .*no new revision/);
    const absent = await cli.vnp(['untag', 'web-1', 'nosuchkey']);
    expect(absent.code, absent.stderr).toBe(0);
    expect(absent.stdout).toMatch(/web-1 unchanged/);
    expect(await revision()).toBe(rev);
    const api = await cli.server.call('PATCH', '/v1/interfaces/web-1/tags', {
      body: { set: { canary: 'yes' } },
    });
    expect(api.status).toBe(200);
    expect(api.body.unchanged).toBe(true);
    expect(await revision()).toBe(rev);
  });
});
