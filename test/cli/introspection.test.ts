/**
 * kubectl habits, second part (issue 16 §5) through the real CLI against a real
 * manager: `describe`, `identities`, `version`, `auth can-i` (answered from the route-
 * access table the auth-matrix test checks) and `completion bash` driven in a real bash.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/model/version.js';
import type { Role } from '../../src/server/auth.js';
import { startCli, type InProcessCli } from './in-process.js';

let cli: InProcessCli;

beforeAll(async () => {
  cli = await startCli();
  const r = await cli.vnp(['apply', '-f', 'examples/three-tier'], { cwd: process.cwd() });
  expect(r.code, r.stderr).toBe(0);
  const ev = await cli.vnp(['event', 'ids.alert', '--target', 'web-1', '--severity', '2']);
  expect(ev.code, ev.stderr).toBe(0);
}, 120_000);
afterAll(async () => cli?.close());

async function ok(args: string[], as?: Role): Promise<string> {
  const r = await cli.vnp(args, { cwd: process.cwd(), ...(as ? { as } : {}) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('vnp describe', () => {
  it('a record: its fields, identity, partitions, rules in the order they decide, events, history', async () => {
    const text = await ok(['describe', 'iface', 'web-1']);
    expect(text).toMatch(/^Name:\s+web-1$/m);
    expect(text).toMatch(/^Kind:\s+Interface$/m);
    expect(text).toMatch(/^Identity:\n\s+ID:\s+\d+/m);
    expect(text).toMatch(/^\s+Partitions:\s+.*web-tier/m);
    expect(text).toMatch(/^Egress rules \(in the order they decide\):\n\s+PRIORITY\s+POLICY/m);
    expect(text).toMatch(/^Events:\n\s+AT\s+TYPE[\s\S]*ids\.alert/m);
    expect(text).toMatch(/^History:\n\s+REVISION/m);
    const json = JSON.parse(await ok(['describe', 'iface', 'web-1', '-o', 'json'])) as {
      identity: { id: number; records: string[] };
      policy: { egress: { priority: number }[] };
      history: unknown[];
    };
    expect(json.identity.records).toContain('web-1');
    const prios = json.policy.egress.map((r) => r.priority);
    expect(prios).toEqual([...prios].sort((a, b) => b - a));
    expect(json.history.length).toBeGreaterThan(0);
  });

  it('a partition names its members; a subnet its records; settings need no name', async () => {
    expect(await ok(['describe', 'partition', 'web-tier'])).toMatch(/^Members: \d+ \(.*web-1/m);
    expect(await ok(['describe', 'subnet', 'front'])).toMatch(/^Records: \d+ \(.*web-1/m);
    expect(await ok(['describe', 'settings'])).toMatch(/^Kind:\s+Settings$/m);
  });

  it('an absent resource is VNP_ERR_NOT_FOUND, a missing name a usage error', async () => {
    const r = await cli.vnp(['describe', 'iface', 'nosuch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/VNP_ERR_NOT_FOUND/);
    expect((await cli.vnp(['describe', 'iface'])).stderr).toMatch(/VNP_ERR_VALIDATION: name/);
  });
});

describe('vnp identities', () => {
  it('lists identities with their tags, partitions, records and hosts', async () => {
    const items = JSON.parse(await ok(['identities', '-o', 'json'])) as {
      id: number;
      records: string[];
      hosts: string[];
      partitions: string[];
    }[];
    const all = items.flatMap((i) => i.records).sort();
    const records = JSON.parse(await ok(['get', 'iface', '-o', 'json'])) as { name: string }[];
    expect(all).toEqual(records.map((r) => r.name).sort());
    const web1 = items.find((i) => i.records.includes('web-1'))!;
    expect(web1.hosts.length).toBeGreaterThan(0);
    expect(web1.partitions).toContain('web-tier');
    const one = JSON.parse(
      await ok(['identities', '--record', 'web-1', '-o', 'json']),
    ) as unknown[];
    expect(one).toEqual([web1]);
    expect(await ok(['identities'])).toMatch(/^ID\s+TAGS\s+PARTITIONS\s+RECORDS\s+HOSTS$/m);
  });
});

describe('vnp version', () => {
  it('prints the client and the server version; the server exposes it', async () => {
    const text = await ok(['version']);
    expect(text).toMatch(new RegExp(`^Client Version: ${VERSION} `, 'm'));
    expect(text).toMatch(/^Server Version: \d+\.\d+\.\d+ \(API v1, node v\d+.*store pglite\)$/m);
    const bad = await cli.vnp(['version'], { env: { VNP_SERVER: 'http://127.0.0.1:1' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/VNP_ERR_UNAVAILABLE/);
    expect(await ok(['version', '--client'])).not.toMatch(/Server/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

describe('vnp auth can-i', () => {
  // Expected by docs/security.md's access levels: the same table the server answers from.
  const CASES: [Role, string, string, 'yes' | 'no'][] = [
    ['viewer', 'get', 'iface', 'yes'],
    ['viewer', 'patch', 'interfaces/tags', 'no'],
    ['operator', 'patch', 'interfaces/tags', 'yes'],
    ['operator', 'create', 'tokens', 'no'],
    ['admin', 'create', 'tokens', 'yes'],
    ['admin', 'create', 'hosts/ack', 'no'],
    ['agent', 'get', 'interfaces', 'no'],
    ['agent', 'create', 'hosts/ack', 'yes'],
  ];
  it.each(CASES)('%s: can-i %s %s → %s', async (as, verb, resource, answer) => {
    const r = await cli.vnp(['auth', 'can-i', verb, resource], { as });
    expect(r.stdout, r.stderr).toBe(`${answer}\n`);
    expect(r.code).toBe(answer === 'yes' ? 0 : 1);
  });

  it('an agent token may act for its own host only; unknown resources are named', async () => {
    expect(
      (await cli.vnp(['auth', 'can-i', 'get', 'hosts/state', '--host', 'host-a'], { as: 'agent' }))
        .code,
    ).toBe(0);
    const other = await cli.vnp(['auth', 'can-i', 'get', 'hosts/state', '--host', 'host-b', '-v'], {
      as: 'agent',
    });
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/no\s+GET \/v1\/hosts\/\{host\}\/state/);
    const unknown = await cli.vnp(['auth', 'can-i', 'get', 'widgets']);
    expect(unknown.stderr).toMatch(
      /VNP_ERR_VALIDATION: no route answers get widgets; .*resources: .*interfaces/,
    );
  });
});

describe('vnp completion', () => {
  it('bash: a valid script that completes commands, subcommands, options, kinds and names', async () => {
    const script = await ok(['completion', 'bash']);
    const dir = mkdtempSync(join(tmpdir(), 'vnp-completion-'));
    const file = join(dir, 'vnp.bash');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
    // Resource names come from the real CLI (compiled, bin/vnp.js) asking the real manager.
    const bin = join(process.cwd(), 'bin/vnp.js');
    const driver = `source ${file}
vnp() { node ${bin} "$@"; }
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _vnp; echo "\${COMPREPLY[*]}"; }
comp vnp ge; comp vnp token cr; comp vnp get --no-h; comp vnp describe pol; comp vnp get iface web-; comp vnp completion f; comp vnp get -o ya`;
    // Asynchronously: the manager answering the name lookup runs in this process.
    const { stdout } = await promisify(execFile)('bash', ['-c', driver], {
      env: { ...process.env, VNP_SERVER: cli.url, VNP_TOKEN: cli.server.tokens.viewer },
      encoding: 'utf8',
    });
    const out = stdout.split('\n');
    expect(out.slice(0, 7)).toEqual([
      'get',
      'create',
      '--no-headers',
      'policy policies pol',
      'web-1 web-2 web-3',
      'fish',
      'yaml',
    ]);
  }, 30_000);

  it('zsh and fish scripts name every command', async () => {
    const zsh = await ok(['completion', 'zsh']);
    expect(zsh).toMatch(/^#compdef vnp\n/);
    expect(zsh).toContain('bashcompinit');
    const fish = await ok(['completion', 'fish']);
    for (const c of ['describe', 'identities', 'version', 'completion', 'config'])
      expect(fish).toContain(`-a ${c} `);
    expect(fish).toContain("__fish_vnp_in 'get'\" -s o -l output -r");
    expect((await cli.vnp(['completion', 'tcsh'])).stderr).toMatch(
      /VNP_ERR_VALIDATION.*bash, zsh, fish/,
    );
  });
});

// Last: it tampers with the log of this file's manager.
describe('vnp audit verify (issue 11: a tamper-evident audit log)', () => {
  it('verifies the chain, then names the first altered entry and a cut tail', async () => {
    const good = await cli.vnp(['audit', 'verify']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^ok: \d+ entries, revisions 1\.\.\d+, head [0-9a-f]{64}$/m);
    const report = JSON.parse(await ok(['audit', 'verify', '-o', 'json'])) as {
      head: string;
      last: number;
    };
    expect((await cli.vnp(['audit', 'verify'], { as: 'viewer' })).stderr).toMatch(
      /VNP_ERR_FORBIDDEN/,
    );
    // The attacker has the database: rewrite one entry's actor, then cut the tail.
    const db = (cli.server.store as unknown as { client: { query(q: string): Promise<unknown> } })
      .client;
    await db.query(`UPDATE vnp_changes SET actor = 'system' WHERE revision = 2`);
    const bad = await cli.vnp(['audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /^BROKEN at revision 2: its content does not match its hash: the entry was altered$/m,
    );
    await db.query(`DELETE FROM vnp_changes WHERE revision >= 2`);
    const cut = await cli.vnp(['audit', 'verify', '--expect-head', report.head]);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/^MISSING: no entry has the head [0-9a-f]{64}/m);
  });
});
