/**
 * Keeps scripts/demo-two-hosts.sh from rotting: runs it as a user would and
 * checks what it shows — web → db allowed and ops → db denied by the kernels,
 * `vnp check` agreeing with each, the records' identities as Group Policy IDs on
 * the underlay, and the IDS event cutting web → db — and that it cleans up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { destroyPrefix, sh } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { REPO } from './support/vnp-process.js';

const TOOLS = [
  ['nft', '--version'],
  ['ip', '-V'],
  ['tcpdump', '--version'],
  ['python3', '--version'],
  ['curl', '--version'],
  ['nsenter', '--version'],
];

/** Runs the demo to completion (SIGTERM, then SIGKILL of its group, past `timeoutMs`). */
function runDemo(timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['scripts/demo-two-hosts.sh'], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // The script's EXIT trap cleans up on SIGTERM; the group kill is the backstop.
    const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs + 10_000);
    child.on('close', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      // eslint-disable-next-line no-control-regex
      done({ code, out: out.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

describePrivileged('scripts/demo-two-hosts.sh', { tools: TOOLS, prefix: 'vnpdemo' }, () => {
  afterAll(() => destroyPrefix('vnpdemo'));

  it('shows the verdicts, vnp check agreeing, the GBP ids and the live cut', async () => {
    const t0 = Date.now();
    const { code, out } = await runDemo(60_000);
    console.log(`demo ran in ${Date.now() - t0} ms`);
    expect(code, out).toBe(0);
    const flow = (src: string, dst: string, kernel: string, check: string) =>
      new RegExp(
        `${src} \\(h\\d\\) -> ${dst} \\(h\\d\\) tcp/5432 +kernel ${kernel} +vnp check ${check} +agree`,
      );
    expect(out).toMatch(flow('web', 'db', 'ALLOWED', 'allow'));
    expect(out).toMatch(flow('ops', 'db', 'DENIED', 'deny'));
    expect(out).toMatch(flow('db', 'web', 'DENIED', 'deny'));
    expect(out).not.toMatch(/DISAGREE/);

    const ids = /identities \(vnp check -o json\): web=(\d+) db=(\d+) ops=(\d+)/.exec(out);
    expect(ids, out).not.toBeNull();
    const [, web, db, ops] = ids!;
    expect(new Set([web, db, ops]).size).toBe(3);
    expect(out).toMatch(`GBP group policy id ${web}: 10.99.0.1 -> 10.99.0.2 (ip proto 6)`);
    expect(out).toMatch(`GBP group policy id ${db}: 10.99.0.2 -> 10.99.0.1 (ip proto 6)`);
    expect(out).toMatch(`GBP group policy id ${ops}: 10.99.0.3 -> 10.99.0.2 (ip proto 6)`);
    // db's ingress chain, named by its slot (its veth: docs/adr/0068-local-slots.md).
    const chain = new RegExp(
      `db \\(identity ${db}\\) on veth (vnp[0-9a-f]{12}): chain in-(vnp[0-9a-f]{12})`,
    );
    const named = chain.exec(out);
    expect(named, out).not.toBeNull();
    expect(named![2]).toBe(named![1]);
    expect(out).toMatch(`chain in-${named![1]} {`);

    // The cut: before the event web → db is allowed, after it denied, both agreeing.
    const cut = out.indexOf('web -> db cut ');
    expect(cut, out).toBeGreaterThan(0);
    expect(out.slice(0, cut)).toMatch(/reactions fired: quarantine/);
    expect(out.slice(cut)).toMatch(flow('web', 'db', 'DENIED', 'deny'));
    expect(out.slice(cut)).toMatch(/quarantine-isolate/);

    // What the kernels reported, as `vnp flows` prints it: the allowed and the denied
    // connections with the side and rule that decided, the quarantine's cut among them.
    const reported = out.slice(out.indexOf('what the kernels reported'));
    const end = (name: string, ip: string, port = '\\d+') => `${name} \\(${ip}:${port}\\) id:\\d+`;
    const row = (src: string, verdict: string) =>
      new RegExp(`${src} +${end('db', '10\\.99\\.0\\.2', '5432')} +tcp/5432 +${verdict}`);
    expect(reported).toMatch(row(end('web', '10\\.99\\.0\\.1'), 'ALLOWED +egress '));
    expect(reported).toMatch(row(end('ops', '10\\.99\\.0\\.3'), 'DENIED +ingress default deny'));
    expect(reported).toMatch(row(end('web', '10\\.99\\.0\\.1'), 'DENIED +egress quarantine'));
    // The whole run as a user sees it (the README quotes it), kept by CI.
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    writeFileSync(join(REPO, 'test-results', 'demo-two-hosts.txt'), out);

    expect(sh(['ip', 'netns', 'list'])).not.toMatch(/^vnpdemo-/m);
  }, 90_000);
});
