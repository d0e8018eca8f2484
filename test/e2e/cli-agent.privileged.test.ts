/**
 * The product path with real processes: `vnp server` in a namespace on the
 * underlay, a model applied with `vnp apply -f`, agent tokens from `vnp token
 * create`, one `vnp agent` process per host namespace. The kernels agree with
 * `vnp check`; `vnp tag` reaches them; the agents keep enforcing without the
 * manager; a stopped agent leaves its table (fail-static) and a new agent process
 * adopts it and follows the manager again.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTopology, sh, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { tcpConnects, tcpServer, type Proc } from './support/traffic.js';
import { spawnVnpIn, startManagerIn, vnpIn, type VnpDaemon } from './support/vnp-process.js';

const TOOLS = [
  ['nft', '--version'],
  ['ip', '-V'],
  ['curl', '--version'],
  ['nsenter', '--version'],
];

/** Records: name → host, address, tags. */
const RECORDS: Record<string, { host: string; ip: string; tags: Record<string, string> }> = {
  web: { host: 'h1', ip: '10.40.0.11', tags: { app: 'shop', tier: 'web' } },
  ops: { host: 'h1', ip: '10.40.0.12', tags: { team: 'ops' } },
  db: { host: 'h2', ip: '10.40.0.13', tags: { app: 'shop', tier: 'db' } },
};
const PORTS = [5432, 22];

/**
 * Two allowed flows, web → db tcp/5432 and ops → db tcp/22, each by a policy on
 * both sides; everything else is denied: the shop partition denies inside it, ops
 * is in another partition (crossPartition deny), and a quarantine tag isolates a
 * record.
 */
function modelDocs(instanceNs: (name: string) => string): unknown[] {
  const docs: unknown[] = [
    { kind: 'Settings', defaults: { unpartitioned: 'deny', crossPartition: 'deny' } },
    { kind: 'Subnet', name: 'net', cidr: '10.40.0.0/24', vni: 40 },
  ];
  for (const [name, r] of Object.entries(RECORDS)) {
    docs.push({ kind: 'Instance', name: `vm-${name}`, host: r.host, netns: instanceNs(name) });
    docs.push({
      kind: 'Interface',
      name,
      subnet: 'net',
      ips: [r.ip],
      instance: `vm-${name}`,
      tags: r.tags,
    });
  }
  docs.push(
    { kind: 'Partition', name: 'shop', selector: 'app == "shop"', intra: 'deny' },
    { kind: 'Partition', name: 'ops', selector: 'team == "ops"', intra: 'allow' },
    {
      kind: 'Policy',
      name: 'web-to-db',
      priority: 100,
      appliesTo: 'tier == "web"',
      egress: [{ action: 'allow', to: { selector: 'tier == "db"' }, ports: ['tcp/5432'] }],
    },
    {
      kind: 'Policy',
      name: 'ops-to-db',
      priority: 100,
      appliesTo: 'team == "ops"',
      egress: [{ action: 'allow', to: { selector: 'tier == "db"' }, ports: ['tcp/22'] }],
    },
    {
      kind: 'Policy',
      name: 'db-in',
      priority: 100,
      appliesTo: 'tier == "db"',
      ingress: [
        { action: 'allow', from: { selector: 'tier == "web"' }, ports: ['tcp/5432'] },
        { action: 'allow', from: { selector: 'team == "ops"' }, ports: ['tcp/22'] },
      ],
    },
    {
      kind: 'Policy',
      name: 'quarantine',
      priority: 65000,
      appliesTo: 'has(quarantine)',
      ingress: [{ action: 'deny' }],
      egress: [{ action: 'deny' }],
    },
  );
  return docs;
}

describePrivileged('vnp server + vnp agent processes → kernel', { tools: TOOLS }, () => {
  let topo: Topology;
  let dir: string;
  let mgrNs: string;
  let mgrIp: string;
  let env: Record<string, string>;
  let server: VnpDaemon | undefined;
  const agents = new Map<string, VnpDaemon>();
  const spawned: VnpDaemon[] = [];
  const sinks: Proc[] = [];
  const ns = (r: string) => topo.instanceNs(r);
  const ip = (r: string) => RECORDS[r]!.ip;

  const vnp = async (args: string[]) => {
    const r = await vnpIn(mgrNs, args, env);
    expect(r.code, `vnp ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const startServer = async () => {
    const m = await startManagerIn(mgrNs, mgrIp, join(dir, 'data'));
    spawned.push(m.server);
    server = m.server;
    return m;
  };
  const startAgent = (host: string) => {
    const h = topo.hosts.find((x) => x.name === host)!;
    const a = spawnVnpIn(
      h.netns,
      [
        'agent',
        '--server',
        `http://${mgrIp}:7400`,
        '--host',
        host,
        '--token-file',
        join(dir, `${host}.token`),
        '--underlay-ip',
        h.underlayIp,
      ],
      {},
    );
    spawned.push(a);
    agents.set(host, a);
    return a;
  };
  const checkVerdict = async (src: string, dst: string, port: number) => {
    const args = ['check', src, dst, '--proto', 'tcp', '--port', String(port), '-o', 'json'];
    return (JSON.parse(await vnp(args)) as { verdict: string }).verdict;
  };
  /** web → db tcp/5432, ops → db tcp/22 and db → web tcp/5432 as the kernels decide. */
  const enforced = async () => {
    const [webDb, opsDb, dbWeb] = await Promise.all([
      tcpConnects(ns('web'), ip('db'), 5432),
      tcpConnects(ns('ops'), ip('db'), 22),
      tcpConnects(ns('db'), ip('web'), 5432),
    ]);
    return { webDb, opsDb, dbWeb };
  };
  /** Polls a flow until the kernel gives `want` (a change takes effect asynchronously). */
  const eventually = async (src: string, dst: string, port: number, want: boolean, ms = 8000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if ((await tcpConnects(ns(src), ip(dst), port, 500)) === want) return Date.now() - t0;
    }
    throw new Error(`${src} → ${dst}:${port} still ${!want} after ${ms} ms`);
  };

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2', 'mgr']);
    dir = mkdtempSync(join(tmpdir(), 'vnp-cli-agent-'));
    const mgr = topo.hosts.find((h) => h.name === 'mgr')!;
    mgrNs = mgr.netns;
    mgrIp = mgr.underlayIp;
    const { adminToken, url } = await startServer();
    env = { VNP_SERVER: url, VNP_TOKEN: adminToken };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelDocs(ns)));
    await vnp(['apply', '-f', join(dir, 'model.json')]);
    for (const host of ['h1', 'h2']) {
      const tok = JSON.parse(
        await vnp(['token', 'create', '--role', 'agent', '--host', host, '-o', 'json']),
      ) as { token: string };
      writeFileSync(join(dir, `${host}.token`), tok.token + '\n', { mode: 0o600 });
      chmodSync(join(dir, `${host}.token`), 0o600);
    }
    await Promise.all(['h1', 'h2'].map((h) => startAgent(h).waitFor(/vnp agent: enforcing/)));
    for (const [name, r] of Object.entries(RECORDS))
      sinks.push(await tcpServer(ns(name), r.ip, PORTS));
    // Each host learns the other's underlay address once both agents are connected.
    await eventually('web', 'db', 5432, true, 15_000);
  }, 60_000);

  afterAll(async () => {
    for (const p of sinks) p.stop();
    await Promise.all(spawned.map((d) => d.kill('SIGKILL')));
    topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the kernels give the verdicts of `vnp check`', async () => {
    const flows: [string, string, number, 'allow' | 'deny'][] = [
      ['web', 'db', 5432, 'allow'],
      ['ops', 'db', 22, 'allow'],
      ['web', 'db', 22, 'deny'],
      ['ops', 'db', 5432, 'deny'],
      ['db', 'web', 5432, 'deny'],
      ['web', 'ops', 22, 'deny'],
    ];
    // The CLI verdicts first, then the kernel's: no node start-ups competing with
    // the connect timeouts.
    const checks = await Promise.all(flows.map(([src, dst, port]) => checkVerdict(src, dst, port)));
    const kernel = await Promise.all(
      flows.map(([src, dst, port]) => tcpConnects(ns(src), ip(dst), port)),
    );
    const rows = flows.map(
      ([src, dst, port], i) =>
        `${src}→${dst}:${port} check ${checks[i]} kernel ${kernel[i] ? 'allow' : 'deny'}`,
    );
    const expected = flows.map(
      ([src, dst, port, v]) => `${src}→${dst}:${port} check ${v} kernel ${v}`,
    );
    expect(rows).toEqual(expected);
  }, 30_000);

  it('`vnp tag` that denies a flow reaches the kernels', async () => {
    await vnp(['tag', 'ops', 'quarantine=true']);
    const ms = await eventually('ops', 'db', 22, false, 5000);
    console.log(`vnp tag → ops → db cut within ${ms} ms`);
    expect(await checkVerdict('ops', 'db', 22)).toBe('deny');
  }, 20_000);

  it('the agents keep enforcing when the manager is killed', async () => {
    expect(await server!.kill('SIGKILL')).toBe('SIGKILL');
    server = undefined;
    await new Promise((r) => setTimeout(r, 300));
    // ops is quarantined now; db → web was denied from the start.
    expect(await enforced()).toEqual({ webDb: true, opsDb: false, dbWeb: false });
    expect(agents.get('h1')!.child.exitCode).toBeNull();
    expect(agents.get('h2')!.child.exitCode).toBeNull();
  }, 20_000);

  it('a stopped agent leaves its table; a new agent adopts it and follows the manager', async () => {
    const h2 = topo.hosts.find((h) => h.name === 'h2')!;
    const old = agents.get('h2')!;
    const t0 = Date.now();
    expect(await old.kill('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sh(['ip', 'netns', 'exec', h2.netns, 'nft', 'list', 'table', 'inet', 'vnp'])).toMatch(
      /table inet vnp/,
    );
    expect(await enforced()).toEqual({ webDb: true, opsDb: false, dbWeb: false });

    const fresh = startAgent('h2');
    await fresh.waitFor(/adopted existing table inet vnp/);
    expect(await enforced()).toEqual({ webDb: true, opsDb: false, dbWeb: false });
    await startServer();
    await fresh.waitFor(/vnp agent: enforcing/);
    // The new agent follows changes: lifting the quarantine opens ops → db again
    // (db's ingress on h2 is this agent's doing).
    await vnp(['untag', 'ops', 'quarantine']);
    await eventually('ops', 'db', 22, true);
    expect(await enforced()).toEqual({ webDb: true, opsDb: true, dbWeb: false });
  }, 40_000);
});
