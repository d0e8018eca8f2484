/**
 * Regression tests for the defects a new user met (issue 16 §3), each through the
 * real CLI against a real manager (in-process, PGlite).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('the README quickstart does what it says', () => {
  it('tagging web-2 quarantine=true flips its DNS verdict from allow to deny', async () => {
    const before = await cli.vnp(['check', 'web-2', 'dns-1', '--proto', 'udp', '--port', '53']);
    expect(before.stdout).toMatch(/^ALLOW /);
    const tag = await cli.vnp(['tag', 'web-2', 'quarantine=true']);
    expect(tag.stdout).toMatch(/web-2 tagged quarantine=true \(revision \d+\)/);
    const after = await cli.vnp(['check', 'web-2', 'dns-1', '--proto', 'udp', '--port', '53']);
    expect(after.stdout).toMatch(/^DENY .*quarantine/);
    expect((await cli.vnp(['untag', 'web-2', 'quarantine'])).code).toBe(0);
  });
});

describe('subnets', () => {
  it('a subnet overlapping another on the same VNI is refused; another VNI may overlap', async () => {
    const rev = await revision();
    const same = await cli.vnp(['apply', '-f', '-'], {
      input: 'kind: Subnet\nname: front-dup\ncidr: 10.10.1.128/25\nvni: 101\n',
    });
    expect(failsWith(same, 'VNP_ERR_CONFLICT')).toMatch(
      /<stdin>:3:7: Subnet\/front-dup: .*overlaps Subnet "front" \(10\.10\.1\.0\/24\) on VNI 101/,
    );
    expect(await revision()).toBe(rev);
    const other = await cli.vnp(['apply', '-f', '-'], {
      input: 'kind: Subnet\nname: tenant-b\ncidr: 10.10.1.0/24\nvni: 4242\n',
    });
    expect(other.code, other.stderr).toBe(0);
    expect((await cli.vnp(['delete', 'subnet', 'tenant-b'])).code).toBe(0);
  });
});

describe('apply names the file and line of a semantic error', () => {
  it('documents[i].field becomes file:line:col of the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnp-apply-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), 'kind: Subnet\nname: ok-net\ncidr: 10.77.0.0/24\n');
      writeFileSync(
        join(dir, 'b.yaml'),
        [
          'kind: Policy',
          'name: bad-cidr',
          'priority: 10',
          'appliesTo: app == "x"',
          'ingress:',
          '  - action: allow',
          '    from:',
          '      cidr: 10.0.0.0/33',
        ].join('\n') + '\n',
      );
      const r = await cli.vnp(['apply', '-f', dir]);
      const line = failsWith(r, 'VNP_ERR_ADDRESS');
      expect(line).toMatch(/b\.yaml:8:13: Policy\/bad-cidr: ingress\[0\]\.from\.cidr: /);
      expect(line).not.toContain('documents[');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('history', () => {
  it('diff shows field-level changes; rollback summarises with counts and --limit', async () => {
    const from = await revision();
    expect((await cli.vnp(['tag', 'web-1', 'tier=5'])).code).toBe(0);
    const pol = await cli.server.call('PATCH', '/v1/policies/quarantine', {
      body: { mode: 'audit' },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(pol.status, pol.text).toBe(200);
    const to = await revision();
    const diff = await cli.vnp(['diff', String(from), String(to)]);
    expect(diff.stdout).toContain('replaced   Interface/web-1');
    expect(diff.stdout).toMatch(/~ tags\.tier: 1 → 5/);
    expect(diff.stdout).toMatch(/~ mode: "enforce" → "audit"/);

    const preview = await cli.vnp(['rollback', String(from), '--limit', '1']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(
      /impact: \d+ flow class\(es\) change: \d+ allow→deny, \d+ deny→allow/,
    );
    expect(preview.stdout).toMatch(/preview only/);

    const done = await cli.vnp(['rollback', String(from), '--yes', '-o', 'json']);
    expect(JSON.parse(done.stdout).dryRun).toBeUndefined();
    const again = await cli.vnp(['rollback', String(from), '--yes', '-o', 'json']);
    const noop = JSON.parse(again.stdout) as { dryRun?: boolean; diff: unknown[] };
    expect(noop.dryRun).toBeUndefined();
    expect(noop.diff).toEqual([]);
    expect((await cli.vnp(['rollback', String(from), '--yes'])).stdout).toMatch(/nothing to do/);
  });
});

describe('get output', () => {
  it('-o json prints keys in the documented order; settings have a revision', async () => {
    const one = JSON.parse(
      (await cli.vnp(['get', 'iface', 'web-1', '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(Object.keys(one)).toEqual(
      [
        'kind',
        'name',
        'subnet',
        'ips',
        'mac',
        'tags',
        'instance',
        'revision',
        'createdAt',
        'updatedAt',
      ].filter((k) => k in one),
    );
    expect(Object.keys(one).slice(0, 3)).toEqual(['kind', 'name', 'subnet']);
    const pol = JSON.parse(
      (await cli.vnp(['get', 'pol', 'quarantine', '-o', 'json'])).stdout,
    ) as Record<string, unknown>;
    expect(Object.keys(pol).slice(0, 4)).toEqual(['kind', 'name', 'priority', 'mode']);
    const table = (await cli.vnp(['get', 'settings'])).stdout;
    expect(table.split('\n')[1]).toMatch(/default\s+\S+\s+\S+\s+\d+$/);
  });
});

describe('--wait with no PEP connected', () => {
  it('warns naming the hosts, and fails with --wait=strict (the write is committed)', async () => {
    const r = await cli.vnp(['tag', 'web-1', 'wave=1', '--wait', '--timeout', '1s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web-1 tagged wave=1 \(revision \d+\); enforced by 0 PEPs/);
    expect(r.stderr).toMatch(/^warning: no PEP connected for \d+ host\(s\) .*host-a/);
    const rev = await revision();
    const strict = await cli.vnp(['untag', 'web-1', 'wave', '--wait=strict', '--timeout', '1s']);
    const line = failsWith(strict, 'VNP_ERR_UNAVAILABLE');
    expect(line).toMatch(/revision \d+ is committed but not enforced on \d+ host\(s\) .*host-a/);
    expect(await revision()).toBe(rev + 1);
    for (const args of [
      ['attach', 'web-1', 'vm-web-1', '--wait'],
      ['detach', 'web-1', '--wait'],
      ['attach', 'web-1', 'vm-web-1', '--wait'],
    ]) {
      const w = await cli.vnp([...args, '--timeout', '1s']);
      expect(w.code, w.stderr).toBe(0);
    }
  });
});
