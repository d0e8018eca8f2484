/**
 * The `vnp` CLI end to end: a real manager in a child process, the real binary
 * per command. Covers every verb's exit code, one-line errors, json/yaml output,
 * the three-tier example, all-or-nothing applies with tests, dry runs, round trips
 * of tag/untag/attach/detach/check, and token roles.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { VnpClient } from '../../src/client/client.js';
import { runCli } from '../../src/cli/program.js';
import { freePort, startManager, vnpWith, type Manager, type RunResult } from './harness.js';

let m: Manager;
let scratch: string;

beforeAll(async () => {
  m = await startManager();
  scratch = mkdtempSync(join(tmpdir(), 'vnp-cli-docs-'));
}, 120_000);

afterAll(async () => {
  await m?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 30_000);

/** A successful run: exit 0 and nothing on stderr unless allowed. */
function ok(r: RunResult): string {
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** A failed run: non-zero, exactly one `error: VNP_ERR_…: …` line, no stack. */
function failed(r: RunResult, code: string): string {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error: ${code}: \\S`));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

const json = <T = unknown>(r: RunResult): T => JSON.parse(ok(r)) as T;
type Named = { name: string; [k: string]: unknown };

function writeDoc(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

// Each command is a process start (about a second); a loaded CI machine needs headroom.
describe('vnp against a running manager', { timeout: 120_000 }, () => {
  it('status reports a ready manager', async () => {
    const out = ok(await m.vnp(['status']));
    expect(out).toMatch(/ready:\s+yes/);
    expect(out).toMatch(/revision:\s+\d+/);
    const report = json<{ ready: boolean; counts: Record<string, number> }>(
      await m.vnp(['status', '-o', 'json']),
    );
    expect(report.ready).toBe(true);
    expect(report.counts.interfaces).toBe(0);
  });

  it('a dry run of the three-tier example shows the diff and tests and changes nothing', async () => {
    const out = ok(await m.vnp(['apply', '-f', 'examples/three-tier', '--dry-run']));
    expect(out).toContain('created    Interface/web-1');
    expect(out).toMatch(/dry run: \d+ created, .*tests 17\/17 passed; nothing was changed/);
    expect(json<unknown[]>(await m.vnp(['get', 'iface', '-o', 'json']))).toEqual([]);
  });

  it('applies the three-tier example with every test passing', async () => {
    const out = ok(await m.vnp(['apply', '-f', 'examples/three-tier']));
    expect(out).toMatch(/applied at revision \d+: .*tests 17\/17 passed/);
    expect(out).not.toContain('FAIL');
    const ifaces = json<Named[]>(await m.vnp(['get', 'interfaces', '-o', 'json']));
    expect(ifaces.map((i) => i.name)).toEqual([
      'app-1',
      'app-2',
      'db-1',
      'dns-1',
      'forensics-1',
      'ntp-1',
      'web-1',
      'web-2',
      'web-3',
    ]);
    expect(ifaces[0]).toMatchObject({
      kind: 'Interface',
      tags: { tier: 2, pci: true, owner: { team: 'pay', cc: 41 } },
    });
  });

  it('applying again changes nothing', async () => {
    const r = await m.vnp(['apply', '-f', 'examples/three-tier', '-o', 'json']);
    const result = json<{ diff: { op: string }[]; tests: { passed: boolean }[] }>(r);
    expect(new Set(result.diff.map((d) => d.op))).toEqual(new Set(['unchanged']));
    expect(result.tests.every((t) => t.passed)).toBe(true);
  });

  it('a failing Test refuses the whole apply and nothing changes', async () => {
    const file = writeDoc(
      'failing.yaml',
      [
        'kind: Subnet\nname: extra\ncidr: 10.99.0.0/24',
        'kind: Policy\nname: web\npriority: 1\nappliesTo: all()',
        'kind: Test\nname: web-reaches-db\nsrc: web-1\ndst: db-1\nproto: tcp\nport: 5432\nexpect: allow',
      ].join('\n---\n'),
    );
    const before = ok(await m.vnp(['get', 'pol', 'web', '-o', 'json']));
    const line = failed(await m.vnp(['apply', '-f', file]), 'VNP_ERR_TEST_FAILED');
    expect(line).toContain('web-reaches-db (expected allow, got deny)');
    failed(await m.vnp(['get', 'subnet', 'extra']), 'VNP_ERR_NOT_FOUND');
    expect(ok(await m.vnp(['get', 'pol', 'web', '-o', 'json']))).toBe(before);
  });

  it('a dry run of a change shows a field-level diff and changes nothing', async () => {
    const file = writeDoc(
      'bump.yaml',
      'kind: Policy\nname: db\npriority: 150\nappliesTo: \'app == "shop" && tier == 3\'\n',
    );
    const out = ok(await m.vnp(['apply', '-f', file, '--dry-run']));
    expect(out).toContain('replaced   Policy/db');
    expect(out).toContain('~ priority: 100 → 150');
    expect(out).toContain('- ingress[0]:');
    expect(
      json<{ priority: number }>(await m.vnp(['get', 'policy', 'db', '-o', 'json'])).priority,
    ).toBe(100);
  });

  it('YAML errors name the file, line and column', async () => {
    const file = writeDoc('broken.yaml', 'kind: Subnet\nname: x\ncidr: [10.0.0.0/24\n');
    const line = failed(await m.vnp(['apply', '-f', file]), 'VNP_ERR_VALIDATION');
    expect(line).toMatch(/broken\.yaml:\d+:\d+: /);
  });

  it('server-side validation errors are one line', async () => {
    const file = writeDoc('bad-sel.yaml', "kind: Partition\nname: p\nselector: 'tier >>= 2'\n");
    failed(await m.vnp(['apply', '-f', file]), 'VNP_ERR_SELECTOR_SYNTAX');
  });

  it('get prints tables, json, yaml (multi-document, re-appliable) and filters by selector', async () => {
    const table = ok(await m.vnp(['get', 'sn']));
    expect(table.split('\n')[0]).toMatch(/^NAME\s+CIDR\s+VNI\s+REVISION$/);
    expect(table).toMatch(/front\s+10\.10\.1\.0\/24\s+101/);

    const yamlOut = ok(await m.vnp(['get', 'pols', '-o', 'yaml']));
    const docs = parseAllDocuments(yamlOut).map((d) =>
      Array.isArray(d) ? null : (d.toJS() as Named),
    );
    expect(docs.map((d) => d?.name)).toContain('quarantine');
    expect(docs.every((d) => d?.kind === 'Policy')).toBe(true);

    const one = parseYaml(ok(await m.vnp(['get', 'iface', 'db-1', '-o', 'yaml']))) as Named;
    expect(one).toMatchObject({
      kind: 'Interface',
      name: 'db-1',
      subnet: 'data',
      ips: ['10.10.3.31'],
    });

    const tier2 = json<Named[]>(
      await m.vnp(['get', 'iface', '--selector', 'tier >= 2 && pci == true', '-o', 'json']),
    );
    expect(tier2.map((i) => i.name)).toEqual(['app-1', 'app-2', 'db-1']);

    const settings = json<{ defaults: { crossPartition: string } }>(
      await m.vnp(['get', 'settings', '-o', 'json']),
    );
    expect(settings.defaults.crossPartition).toBe('deny');
  });

  it('get -o yaml | apply -f - round-trips to unchanged', async () => {
    const yamlOut = ok(await m.vnp(['get', 'iface', '-o', 'yaml']));
    const r = await m.vnp(['apply', '-f', '-', '-o', 'json'], { input: yamlOut });
    const result = json<{ diff: { op: string }[] }>(r);
    expect(result.diff).toHaveLength(9);
    expect(result.diff.every((d) => d.op === 'unchanged')).toBe(true);
  });

  it('check explains the verdict: deciding rule, default, overridden rules', async () => {
    const out = ok(await m.vnp(['check', 'web-3', 'dns-1', '--proto', 'udp', '--port', '53']));
    expect(out).toMatch(/^DENY {2}web-3 → dns-1 udp\/53/);
    expect(out).toContain('egress: deny by policy quarantine egress[0] (priority 1000, deny)');
    expect(out).toContain('overridden: policy use-shared-services egress[0] (priority 200, allow)');

    const defaulted = ok(await m.vnp(['check', 'web-1', 'db-1', '--port', '5432']));
    expect(defaulted).toMatch(/^DENY/);
    expect(defaulted).toMatch(/egress: deny by default — /);

    const r = json<{ verdict: string; egress: { policy?: string }; ingress: { policy?: string } }>(
      await m.vnp(['check', 'app-1', 'db-1', '--proto', 'tcp', '--port', '5432', '-o', 'json']),
    );
    expect(r.verdict).toBe('allow');
    expect(r.egress.policy).toBe('app');
    expect(r.ingress.policy).toBe('db');

    expect((await m.vnp(['check', 'web-1', 'db-1', '--port', '5432', '--exit-code'])).code).toBe(3);
    expect((await m.vnp(['check', 'web-1', 'app-1', '--port', '8080', '--exit-code'])).code).toBe(
      0,
    );
    failed(await m.vnp(['check', 'nobody', 'db-1', '--port', '80']), 'VNP_ERR_UNKNOWN_ENDPOINT');
  });

  it('the client resolves the policy for a tag set', async () => {
    const client = new VnpClient({ server: m.url, token: m.adminToken });
    const p = await client.policyForTags({ app: 'shop', tier: 2, pci: true });
    expect(p.policies).toEqual(expect.arrayContaining(['app', 'use-shared-services']));
    expect(p.partitions).toEqual(['pci']);
    expect(p.egress.length).toBeGreaterThan(0);
  });

  it('tag and untag change verdicts', async () => {
    const verdict = async () =>
      json<{ verdict: string }>(
        await m.vnp(['check', 'web-2', 'app-1', '--port', '8080', '-o', 'json']),
      ).verdict;
    expect(await verdict()).toBe('allow');
    expect(ok(await m.vnp(['tag', 'web-2', 'quarantine=true', 'since=2026']))).toMatch(
      /^web-2 tagged quarantine=true,since=2026 \(revision \d+\)\n$/,
    );
    const rec = json<{ tags: Record<string, unknown> }>(
      await m.vnp(['get', 'iface', 'web-2', '-o', 'json']),
    );
    expect(rec.tags).toMatchObject({ quarantine: true, since: 2026 });
    expect(await verdict()).toBe('deny');
    ok(await m.vnp(['untag', 'web-2', 'quarantine', 'since']));
    expect(await verdict()).toBe('allow');
    failed(await m.vnp(['tag', 'web-2', 'bad key=1']), 'VNP_ERR_TAG_INVALID');
    failed(await m.vnp(['tag', 'nope', 'a=b']), 'VNP_ERR_NOT_FOUND');
  });

  it('detach and attach move a record', async () => {
    const instanceOf = async () =>
      json<{ instance?: string }>(await m.vnp(['get', 'iface', 'web-1', '-o', 'json'])).instance;
    expect(ok(await m.vnp(['detach', 'web-1']))).toMatch(/^web-1 detached/);
    expect(await instanceOf()).toBeUndefined();
    expect(ok(await m.vnp(['attach', 'web-1', 'vm-web-2']))).toMatch(/^web-1 attached to vm-web-2/);
    expect(await instanceOf()).toBe('vm-web-2');
    const moved = json<{ instance: string }>(
      await m.vnp(['attach', 'web-1', 'vm-web-1', '-o', 'json']),
    );
    expect(moved.instance).toBe('vm-web-1');
    failed(await m.vnp(['attach', 'web-1', 'no-such-vm']), 'VNP_ERR_REFERENCE');
  });

  it('tokens of every role; a viewer may read but not write; revoked tokens stop working', async () => {
    // Independent commands run side by side: each spawn costs about a second.
    const [admin, operatorT, viewerT, agent, plain] = await Promise.all([
      m.vnp(['token', 'create', '--role', 'admin', '-o', 'json']),
      m.vnp(['token', 'create', '--role', 'operator', '-o', 'json']),
      m.vnp(['token', 'create', '--role', 'viewer', '-o', 'json']),
      m.vnp(['token', 'create', '--role', 'agent', '--host', 'host-a', '-o', 'json']),
      m.vnp(['token', 'create', '--role', 'viewer']),
    ]);
    const created: Record<string, { id: string; token: string }> = {
      admin: json(admin),
      operator: json(operatorT),
      viewer: json(viewerT),
      agent: json(agent),
    };
    for (const t of Object.values(created)) expect(t.token).toMatch(/\S{16,}/);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).not.toContain(' ');
    expect(plain.stderr).toMatch(/created; the secret above is not shown again/);

    const listed = json<{ id: string; role: string; host?: string }[]>(
      await m.vnp(['token', 'list', '-o', 'json']),
    );
    for (const role of ['admin', 'operator', 'viewer', 'agent']) {
      expect(listed.find((t) => t.id === created[role]!.id)?.role).toBe(role);
    }
    expect(listed.find((t) => t.id === created.agent!.id)?.host).toBe('host-a');

    const viewer = created.viewer!.token;
    const operator = created.operator!.token;
    const [read, tagged, applied, deleted, status] = await Promise.all([
      m.vnp(['--token', viewer, 'get', 'sn']),
      m.vnp(['--token', viewer, 'tag', 'web-1', 'x=1']),
      m.vnp(['apply', '-f', 'examples/three-tier'], { env: { VNP_TOKEN: viewer } }),
      m.vnp(['delete', 'pol', 'web', '--token', viewer]),
      m.vnp(['--token', created.admin!.token, 'status']),
    ]);
    ok(read);
    failed(tagged, 'VNP_ERR_FORBIDDEN');
    failed(applied, 'VNP_ERR_FORBIDDEN');
    failed(deleted, 'VNP_ERR_FORBIDDEN');
    ok(status);

    ok(await m.vnp(['--token', operator, 'tag', 'web-1', 'x=1']));
    ok(await m.vnp(['--token', operator, 'untag', 'web-1', 'x']));

    expect(ok(await m.vnp(['token', 'revoke', created.viewer!.id]))).toContain('revoked');
    failed(await m.vnp(['--token', viewer, 'get', 'sn']), 'VNP_ERR_UNAUTHENTICATED');
    failed(await m.vnp(['--token', 'vnp_nope_nope', 'get', 'sn']), 'VNP_ERR_UNAUTHENTICATED');
  });

  it('delete removes a resource; deleting it again is not found', async () => {
    expect(ok(await m.vnp(['delete', 'pol', 'pay-team-egress-audit']))).toMatch(
      /^Policy\/pay-team-egress-audit deleted \(revision \d+\)\n$/,
    );
    failed(await m.vnp(['get', 'pol', 'pay-team-egress-audit']), 'VNP_ERR_NOT_FOUND');
    failed(await m.vnp(['delete', 'pol', 'pay-team-egress-audit']), 'VNP_ERR_NOT_FOUND');
    failed(await m.vnp(['delete', 'subnet', 'front']), 'VNP_ERR_CONFLICT');
  });

  it('audit lists the latest changes, newest first', async () => {
    const entries = json<{ revision: number; actor: string; action: string }[]>(
      await m.vnp(['audit', '--limit', '3', '-o', 'json']),
    );
    expect(entries).toHaveLength(3);
    expect(entries[0]!.revision).toBeGreaterThan(entries[1]!.revision);
    expect(entries.some((e) => e.action.startsWith('delete'))).toBe(true);
    expect(ok(await m.vnp(['audit', '--limit', '2'])).split('\n')[0]).toMatch(
      /^REVISION\s+AT\s+ACTOR\s+ACTION\s+CHANGES$/,
    );
  });

  it('event fires the reaction on its target', async () => {
    const out = ok(await m.vnp(['event', 'ids-alert', '--target', 'web-2']));
    expect(out).toMatch(
      /^event ids-alert on web-2: reactions fired: quarantine-on-ids-alert \(revision \d+\); quarantine-on-ids-alert undoes itself at \S+\n$/,
    );
    const rec = json<{ tags: Record<string, unknown> }>(
      await m.vnp(['get', 'iface', 'web-2', '-o', 'json']),
    );
    expect(rec.tags.quarantine).toBe(true);
    // Already quarantined: the reaction's match excludes it.
    expect(ok(await m.vnp(['event', 'ids-alert', '--target', 'web-2']))).toMatch(
      /no reaction matched/,
    );
    failed(await m.vnp(['event', 'bad type!', '--target', 'web-2']), 'VNP_ERR_VALIDATION');
  });

  it('reads the admin token from $VNP_DATA_DIR/admin.token when none is given', async () => {
    ok(await vnpWith(['get', 'sn'], { VNP_SERVER: m.url, VNP_DATA_DIR: m.dataDir }));
    failed(
      await vnpWith(['get', 'sn'], { VNP_SERVER: m.url, VNP_DATA_DIR: scratch }),
      'VNP_ERR_UNAUTHENTICATED',
    );
  });

  it('an unreachable manager is one line naming it', async () => {
    const port = await freePort();
    const line = failed(
      await vnpWith(['status'], { VNP_SERVER: `http://127.0.0.1:${port}` }),
      'VNP_ERR_UNAVAILABLE',
    );
    expect(line).toContain(
      `cannot reach the manager at http://127.0.0.1:${port}: connection refused`,
    );
  });

  it('applies over 1,000 documents in one request with a progress bar on a TTY', async () => {
    const dir = join(scratch, 'bulk');
    mkdirSync(dir);
    const docs = Array.from(
      { length: 1100 },
      (_, i) =>
        `kind: Subnet\nname: bulk-${String(i).padStart(4, '0')}\ncidr: 10.${100 + Math.floor(i / 256)}.${i % 256}.0/24\n`,
    );
    writeFileSync(join(dir, 'a.yaml'), docs.slice(0, 600).join('---\n'));
    writeFileSync(join(dir, 'b.yaml'), docs.slice(600).join('---\n'));
    const stdout = { text: '', write: (t: string) => (stdout.text += t) };
    const stderr = { text: '', isTTY: true, write: (t: string) => (stderr.text += t) };
    const code = await runCli(['apply', '-f', dir], {
      env: { VNP_SERVER: m.url, VNP_TOKEN: m.adminToken },
      stdout,
      stderr,
      cwd: scratch,
    });
    expect(code, stderr.text).toBe(0);
    expect(stdout.text).toMatch(/applied at revision \d+: 1100 created/);
    expect(stderr.text).toContain('uploading 1100 documents [');
    expect(stderr.text).toContain('uploaded 1100 documents; waiting for the manager');
    const audit = json<{ action: string }[]>(await m.vnp(['audit', '--limit', '1', '-o', 'json']));
    expect(audit[0]!.action).toBe('apply 1100 document(s)');
    const subnets = json<Named[]>(await m.vnp(['get', 'subnets', '-o', 'json']));
    expect(subnets.filter((n) => n.name.startsWith('bulk-'))).toHaveLength(1100);
  });

  it('every route the client calls is described at /openapi.json', async () => {
    const spec = await new VnpClient({ server: m.url, token: m.adminToken }).openapi();
    const paths = spec.paths as Record<string, Record<string, unknown>>;
    const used: [string, string][] = [
      ['get', '/v1/interfaces'],
      ['post', '/v1/interfaces'],
      ['get', '/v1/interfaces/{name}'],
      ['put', '/v1/interfaces/{name}'],
      ['patch', '/v1/interfaces/{name}'],
      ['delete', '/v1/interfaces/{name}'],
      ['post', '/v1/interfaces/{name}/attach'],
      ['post', '/v1/interfaces/{name}/detach'],
      ['patch', '/v1/interfaces/{name}/tags'],
      ['get', '/v1/policies'],
      ['get', '/v1/subnets/{name}'],
      ['get', '/v1/settings'],
      ['put', '/v1/settings'],
      ['post', '/v1/apply'],
      ['post', '/v1/check'],
      ['post', '/v1/policy-for-tags'],
      ['post', '/v1/events'],
      ['get', '/v1/peps'],
      ['get', '/v1/audit'],
      ['post', '/v1/tokens'],
      ['get', '/v1/tokens'],
      ['delete', '/v1/tokens/{id}'],
      ['get', '/v1/watch'],
      ['post', '/v1/impact'],
      ['get', '/v1/who-can-reach'],
      ['get', '/v1/history'],
      ['get', '/v1/diff'],
      ['post', '/v1/rollback'],
    ];
    const missing = used.filter(([method, path]) => paths[path]?.[method] === undefined);
    expect(missing).toEqual([]);
  });

  it('--help works from the installed binary', async () => {
    const r = await vnpWith(['apply', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: vnp apply');
    expect(r.stdout).toContain('--dry-run');
  });
});
