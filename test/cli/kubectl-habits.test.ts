/**
 * kubectl habits (issue 16 §5) through the real CLI against a real manager:
 * several kinds and names, all, -o name|wide|jsonpath, --no-headers, --sort-by,
 * --selector, delete by names / selector / files with --dry-run, tag -l.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type InProcessCli } from './in-process.js';

let cli: InProcessCli;

beforeAll(async () => {
  cli = await startCli();
  const r = await cli.vnp(['apply', '-f', 'examples/three-tier'], { cwd: process.cwd() });
  expect(r.code, r.stderr).toBe(0);
}, 400_000);
afterAll(async () => cli?.close());

async function ok(args: string[], input?: string): Promise<string> {
  const r = await cli.vnp(args, { cwd: process.cwd(), ...(input ? { input } : {}) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('vnp get', () => {
  it('takes several kinds, all, several names and -o name', async () => {
    const names = (await ok(['get', 'subnet,pol', '-o', 'name'])).trim().split('\n');
    expect(names).toContain('subnet/front');
    expect(names.some((n) => n.startsWith('policy/'))).toBe(true);
    const all = await ok(['get', 'all', '-o', 'name']);
    for (const k of ['subnet/', 'instance/', 'interface/', 'partition/', 'policy/', 'reaction/'])
      expect(all).toContain(k);
    const two = JSON.parse(await ok(['get', 'iface', 'web-1', 'web-2', '-o', 'json'])) as {
      name: string;
    }[];
    expect(two.map((i) => i.name)).toEqual(['web-1', 'web-2']);
    const table = await ok(['get', 'subnet,instance']);
    expect(table).toMatch(/^NAME\s+CIDR/m);
    expect(table).toContain('subnet/front');
  });

  it('-o jsonpath (jsonpath-plus), --sort-by, --no-headers, -o wide', async () => {
    expect(await ok(['get', 'iface', 'web-1', '-o', 'jsonpath={.ips[0]}'])).toBe('10.10.1.11\n');
    const names = (await ok(['get', 'subnet', '-o', 'jsonpath={.items[*].name}'])).trim();
    expect(names.split(' ')).toContain('front');
    const sorted = await ok(['get', 'pol', '--sort-by', '.priority', '--no-headers']);
    expect(sorted).not.toMatch(/^NAME/);
    const prios = sorted
      .trim()
      .split('\n')
      .map((l) => Number(l.split(/\s+/)[1]));
    expect(prios).toEqual([...prios].sort((a, b) => a - b));
    const wide = await ok(['get', 'iface', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/MAC\s+SECURITY-GROUPS\s+CREATED\s+UPDATED$/);
  });

  it('--selector filters interfaces and the instances holding them; other kinds say why', async () => {
    const inst = await ok(['get', 'inst', '-l', 'app == "shop" && tier == 1', '-o', 'name']);
    expect(inst).toContain('instance/vm-web-1');
    expect(inst).not.toContain('vm-db');
    const r = await cli.vnp(['get', 'pol', '-l', 'tier == 1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^error: VNP_ERR_VALIDATION: --selector: Policy resources carry no tags/,
    );
  });
});

describe('vnp delete and tag -l', () => {
  it('delete --dry-run previews; several names and -l delete', async () => {
    const rev = cli.server.manager.revision;
    const dry = await ok(['delete', 'pol', 'quarantine', '--dry-run']);
    expect(dry).toMatch(/deleted\s+Policy\/quarantine/);
    expect(dry).toMatch(/impact: \d+ flow class\(es\) change/);
    expect(dry).toMatch(/dry run: 1 would be deleted; nothing was changed/);
    expect(cli.server.manager.revision).toBe(rev);
    await ok(
      ['apply', '-f', '-'],
      'kind: Interface\nname: tmp-1\nsubnet: front\nips: [10.10.1.91]\ntags: {scratch: true}\n---\n' +
        'kind: Interface\nname: tmp-2\nsubnet: front\nips: [10.10.1.92]\ntags: {scratch: true}\n',
    );
    const byLabel = await ok(['delete', 'iface', '-l', 'has(scratch)']);
    expect(byLabel).toMatch(/Interface\/tmp-1 deleted \(revision \d+\)\nInterface\/tmp-2 deleted/);
  });

  it('tag -l sets and removes (key-) on every match in one revision, with the impact', async () => {
    const rev = cli.server.manager.revision;
    const dry = await ok(['tag', '-l', 'app == "shop" && tier == 1', 'canary=true', '--dry-run']);
    expect(dry).toMatch(/dry run: \d+ record\(s\) match, \d+ change; nothing was changed/);
    expect(cli.server.manager.revision).toBe(rev);
    const out = await ok(['tag', '-l', 'app == "shop" && tier == 1', 'canary=true', 'pci-']);
    expect(out).toMatch(/tagged canary=true, untagged pci: web-1, web-2, web-3/);
    expect(out).toMatch(/at revision (\d+)/);
    expect(cli.server.manager.revision).toBe(rev + 1);
    const again = await ok(['tag', '-l', 'app == "shop" && tier == 1', 'canary=true', 'pci-']);
    expect(again).toMatch(/nothing to do \(no new revision\)/);
  });
});
