/**
 * The flow API (docs/flows.md): agents report batches, people read them — filtered,
 * paged, summarised, watched — and every bad filter is a 4xx naming its field. The
 * CLI (`vnp flows`, `vnp flows summary`) runs in-process against the same manager
 * (one manager start for both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import type { FlowRecord } from '../../src/model/flow.js';
import { MODEL } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let web: number;
let db: number;
const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const now = T;

beforeAll(async () => {
  s = await startTestServer({ now: () => now });
  const r = await s.call('POST', '/v1/apply', { body: { documents: MODEL } });
  expect(r.status, r.text).toBe(200);
  web = s.manager.engine.recordIdentity('web1')!;
  db = s.manager.engine.recordIdentity('db1')!;
});
afterAll(async () => {
  await s?.close();
});

function record(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    time: new Date(T - 1000).toISOString(),
    host: 'host-a',
    src: { address: '10.0.0.10', port: 40000, record: 'web1', identity: web, partitions: [] },
    dst: { address: '10.0.0.20', port: 5432, record: 'db1', identity: db, partitions: [] },
    protocol: 'tcp',
    port: 5432,
    verdict: 'allow',
    ingress: { verdict: 'allow', policy: 'db-in', rule: 'ingress[0]' },
    state: 'new',
    ...over,
  };
}
const denied = (over: Partial<FlowRecord> = {}) =>
  record({
    port: 22,
    dst: { address: '10.0.0.20', port: 22, record: 'db1', identity: db, partitions: [] },
    verdict: 'deny',
    ingress: { verdict: 'deny', policy: 'db-deny', rule: 'ingress[0]' },
    ...over,
  });

async function report(records: FlowRecord[], counters?: object) {
  const r = await s.call('POST', '/v1/hosts/host-a/flows', {
    as: 'agent',
    body: { records, ...(counters ? { counters } : {}) },
  });
  await s.flows.flush();
  return r;
}

/** `vnp ARGS` in-process against the test manager. */
async function vnp(args: string[], as: 'viewer' | 'admin' = 'viewer') {
  if (!s.app.server.listening) await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as { port: number };
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: { VNP_SERVER: `http://127.0.0.1:${port}`, VNP_TOKEN: s.tokens[as] },
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    cwd: '/nonexistent',
    readStdin: () => '',
  });
  return { code, stdout, stderr };
}

describe('flow API', () => {
  it('says why there are no flows before any agent reported: agents, retention', async () => {
    const page = await s.call('GET', '/v1/flows', { as: 'viewer' });
    expect(page.status, page.text).toBe(200);
    expect(page.body).toMatchObject({
      items: [],
      sampling: { reporting: 0 },
      retention: { ageMs: 86_400_000, maxRows: 1_000_000 },
    });
    const r = await vnp(['flows']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'no flows\n' +
        '  - no agent has reported flows to this manager since it started: are the agents connected (`vnp peps`) and started without --no-flows?\n' +
        '  - flows are kept 1d and at most 1,000,000 records (VNP_FLOW_RETENTION); older ones are gone\n',
    );
  });

  it('stores what the agent reports, with partitions, and pages newest first', async () => {
    const r = await report(
      [record(), denied(), record({ state: 'closed', bytes: 900, packets: 9 })],
      {
        seen: 3,
        sampled: 1,
        unsampled: 4,
        dropped: 0,
      },
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ queued: 3, refused: 0 });
    const first = await s.call('GET', '/v1/flows?limit=2', { as: 'viewer' });
    expect(first.status, first.text).toBe(200);
    expect(first.body.items.map((f: FlowRecord) => f.state)).toEqual(['closed', 'new']);
    expect(first.body.items[1]).toMatchObject({ verdict: 'deny', src: { partitions: ['prod'] } });
    expect(first.body.sampling).toEqual({ sampled: 1, unsampled: 4, dropped: 0, reporting: 1 });
    const second = await s.call('GET', `/v1/flows?limit=2&cursor=${first.body.next}`, {
      as: 'viewer',
    });
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeUndefined();
  });

  it('filters by verdict, policy, ends (record, prefix, selector), host and time', async () => {
    const count = async (q: string) => {
      const r = await s.call('GET', `/v1/flows?${q}`, { as: 'viewer' });
      expect(r.status, `${q}: ${r.text}`).toBe(200);
      return r.body.items.length as number;
    };
    expect(await count('verdict=deny')).toBe(1);
    expect(await count('policy=db-in')).toBe(2);
    expect(await count('from=web1&to=db1')).toBe(3);
    expect(await count('to=10.0.0.0/24&verdict=allow')).toBe(2);
    expect(await count(`from=${encodeURIComponent('app == "web"')}`)).toBe(3);
    expect(await count(`from=${encodeURIComponent('app == "db"')}`)).toBe(0);
    expect(await count('host=host-b')).toBe(0);
    expect(await count('since=10m')).toBe(3);
    expect(await count('until=10m')).toBe(0);
    expect(await count('since=2026-01-01T11:59:59Z')).toBe(3);
  });

  it('refuses bad filters with a 4xx naming the field, and queries nothing', async () => {
    const cases: [string, number, string][] = [
      [`from=${encodeURIComponent('app ==')}`, 400, 'from'],
      ['to=nosuch-record', 422, 'to'],
      ['since=yesterday', 400, 'since'],
      ['until=2026-13-45', 400, 'until'],
      ['limit=0', 400, 'limit'],
      ['limit=5000', 400, 'limit'],
      ['cursor=abc', 400, 'cursor'],
      ['policy=Bad%20Name', 400, 'policy'],
    ];
    for (const [q, status, field] of cases) {
      const r = await s.call('GET', `/v1/flows?${q}`, { as: 'viewer' });
      expect(r.status, `${q}: ${r.text}`).toBe(status);
      expect(r.body.error.details.field, q).toBe(field);
    }
    expect((await s.call('GET', '/v1/flows?verdict=maybe', { as: 'viewer' })).status).toBe(400);
    expect((await s.call('GET', '/v1/flows/summary?since=soon', { as: 'viewer' })).status).toBe(
      400,
    );
    expect((await s.call('GET', '/v1/flows/watch?to=nosuch', { as: 'viewer' })).status).toBe(422);
  });

  it('refuses a bad batch whole, naming the field; only the host’s own agent reports', async () => {
    const bad = record();
    (bad.src as { address: string }).address = '10.0.0.999';
    const r = await report([record(), bad]);
    expect(r.status).toBe(422);
    expect(r.body.error.details.field).toBe('records[1].src.address');
    const other = await report([record({ host: 'host-b' })]);
    expect(other.body.error.details.field).toBe('records[0].host');
    expect(
      (await s.call('POST', '/v1/hosts/host-b/flows', { as: 'agent', body: { records: [] } }))
        .status,
    ).toBe(403);
    expect(
      (await s.call('POST', '/v1/hosts/host-a/flows', { as: 'admin', body: { records: [] } }))
        .status,
    ).toBe(403);
    expect((await s.call('GET', '/v1/flows', { as: null })).status).toBe(401);
    expect((await s.call('GET', '/v1/flows?verdict=deny')).body.items).toHaveLength(1);
  });

  it('summarises the observed graph per edge and deciding rule, with identity tags', async () => {
    const r = await s.call('GET', '/v1/flows/summary?since=1h', { as: 'viewer' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          srcIdentity: web,
          dstIdentity: db,
          port: 5432,
          policy: 'db-in',
          rule: 'ingress[0]',
          count: 1,
          bytes: 900,
        }),
        expect.objectContaining({ port: 22, verdict: 'deny', policy: 'db-deny', count: 1 }),
      ]),
    );
    expect(r.body.identities[String(web)].tags).toMatchObject({ app: 'web' });
  });

  it('counts decisions in vnp_flows_total by verdict, policy and rule', async () => {
    const r = await s.call('GET', '/metrics', { as: 'viewer' });
    expect(r.text).toContain(
      'vnp_flows_total{verdict="deny",policy="db-deny",rule="ingress[0]"} 1',
    );
    expect(r.text).toContain('vnp_pep_flow_events{host="host-a",kind="unsampled"} 4');
  });

  it('streams new flows that match the watch filters', async () => {
    if (!s.app.server.listening) await s.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = s.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/v1/flows/watch?verdict=deny`, {
      headers: { authorization: `Bearer ${s.tokens.viewer}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await report([
      record({ time: new Date(T).toISOString() }),
      denied({ time: new Date(T).toISOString() }),
    ]);
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as FlowRecord);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ verdict: 'deny', port: 22 });
    await reader.cancel();
  });
});

describe('impact against observed flows', () => {
  it('replays the window through a change: what flips, by which rule, and what audit rules would do', async () => {
    const egress = { verdict: 'allow' as const, policy: 'db-in', rule: 'egress[0]' };
    const t = new Date(T - 2000).toISOString();
    await report(
      [1, 2, 3].map((i) =>
        record({
          time: t,
          src: {
            address: '10.0.0.10',
            port: 41000 + i,
            record: 'web1',
            identity: web,
            partitions: [],
          },
          egress,
        }),
      ),
    );
    const lockdown = {
      kind: 'Policy',
      name: 'lockdown',
      priority: 1000,
      appliesTo: 'app == "db"',
      ingress: [{ action: 'deny', from: { selector: 'app == "web"' }, ports: ['tcp/5432'] }],
    };
    const watch = {
      kind: 'Policy',
      name: 'watch',
      priority: 5000,
      mode: 'audit',
      appliesTo: 'app == "db"',
      ingress: [{ action: 'deny' }],
    };
    const r = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { documents: [lockdown], againstFlows: '1h' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.againstFlows).toMatchObject({ flows: 3, changedFlows: 3 });
    expect(r.body.againstFlows.changed).toEqual([
      {
        src: 'web1',
        dst: 'db1',
        protocol: 'tcp',
        port: 5432,
        from: 'allow',
        to: 'deny',
        count: 3,
        decidedBy: 'ingress lockdown/ingress[0]',
      },
    ]);
    // An audit-mode policy changes nothing, and shows what it would have denied.
    const audited = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { documents: [watch], againstFlows: '1h' },
    });
    expect(audited.body.againstFlows.changed).toEqual([]);
    expect(audited.body.againstFlows.audit).toEqual([
      expect.objectContaining({
        src: 'web1',
        dst: 'db1',
        wouldBe: 'deny',
        rules: ['watch/ingress[0]'],
        count: 3,
      }),
    ]);
    const bad = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: { documents: [], againstFlows: 'soon' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('againstFlows');
  });
});

describe('vnp flows', () => {
  it('prints the recent flows like hubble observe, oldest first, and says what was not sampled', async () => {
    const r = await vnp(['flows', '--verdict', 'deny', '--from', 'web1']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+SOURCE\s+DESTINATION\s+PROTO\s+VERDICT\s+DECIDED BY\s+HOST$/);
    expect(lines[1]).toContain('web1 (10.0.0.10:40000)');
    expect(lines[1]).toMatch(
      /db1 \(10\.0\.0\.20:22\) id:\d+\s+tcp\/22\s+DENIED\s+ingress db-deny\/ingress\[0\]\s+host-a/,
    );
    expect(lines.length).toBe(3);
    expect(r.stderr).toContain('4 of 5 denied packets were not sampled');
    const json = await vnp(['flows', '-o', 'json', '--policy', 'db-in', '-n', '1']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ state: 'new', verdict: 'allow' }),
    ]);
    const none = await vnp(['flows', '--verdict', 'deny', '--from', 'db1']);
    expect(none.code, none.stderr).toBe(0);
    // An agent reports now: the hint names the filters, not the agents.
    expect(none.stdout).toBe(
      'no flows (verdict=deny from=db1)\n' +
        '  - the filters matched none: `vnp flows` without them lists the newest of all\n' +
        '  - flows are kept 1d and at most 1,000,000 records (VNP_FLOW_RETENTION); older ones are gone\n',
    );
  });

  it('prints the summary and refuses bad filters with the field named', async () => {
    const r = await vnp(['flows', 'summary']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /SOURCE\s+DESTINATION\s+PROTO\s+VERDICT\s+DECIDED BY\s+CONNECTIONS\s+BYTES/,
    );
    expect(r.stdout).toMatch(
      /app=web.*app=db.*tcp\/5432\s+allow\s+db-in\/ingress\[0\]\s+\d+\s+900 B/,
    );
    const bad = await vnp(['flows', '--since', 'yesterday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('since');
    expect((await vnp(['flows', '--verdict', 'maybe'])).stderr).toContain('expected allow or deny');
  });

  it('apply --dry-run --against-flows lists the observed flows the change would flip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vnp-flows-'));
    const file = join(dir, 'lockdown.yaml');
    await writeFile(
      file,
      'kind: Policy\nname: lockdown\npriority: 1000\nappliesTo: app == "db"\ningress:\n  - action: deny\n    from: { selector: app == "web" }\n    ports: [tcp/5432]\n',
    );
    const r = await vnp(['apply', '-f', file, '--dry-run', '--against-flows', '1h'], 'admin');
    await rm(dir, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /3 flows from web1 → db1 tcp\/5432 would be denied by ingress lockdown\/ingress\[0\]/,
    );
    expect(s.manager.engine.get('Policy', 'lockdown')).toBeUndefined();
  });

  it('counts denies exactly per rule from the kernel counters: the metric, the summary and its note', async () => {
    const metric = async (rule: string, policy = 'db-deny') => {
      const m = await s.call('GET', '/metrics', { as: 'viewer' });
      const line = m.text
        .split('\n')
        .find((l: string) =>
          l.startsWith(`vnp_flows_total{verdict="deny",policy="${policy}",rule="${rule}"}`),
        );
      return Number(line?.split(' ')[1] ?? 0);
    };
    // The deny samples stored so far, counted as records (host-a had no exact counts).
    const samples = await metric('ingress[0]');
    expect(samples).toBeGreaterThan(0);
    const counters = (packets: number) => ({
      seen: 3,
      sampled: 1,
      unsampled: 4,
      dropped: 0,
      denied: [
        { policy: '', rule: 'default', packets: 2 },
        { policy: 'db-deny', rule: 'ingress[0]', packets },
      ],
    });
    // The first report is the agent's count so far (the metric takes it, the window cannot
    // date it); the second's increase falls in this minute.
    expect((await report([], counters(100))).status).toBe(200);
    expect((await report([], counters(1100))).status).toBe(200);
    expect(await metric('ingress[0]')).toBe(samples + 1100);
    expect(await metric('default', '')).toBe(2);
    const r = await s.call('GET', '/v1/flows/summary?since=1h', { as: 'viewer' });
    expect(r.body.denied).toEqual([
      { policy: 'db-deny', rule: 'ingress[0]', packets: 1000, sampled: samples },
    ]);
    const out = await vnp(['flows', 'summary']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/DENIED BY\s+PACKETS \(EXACT\)\s+SAMPLED/);
    expect(out.stdout).toMatch(new RegExp(`db-deny/ingress\\[0\\]\\s+1000\\s+${samples}\\n`));
    expect(out.stdout).toContain(
      `note: ${1000 - samples} of 1000 denied packets have no sample record`,
    );
    // From now on this host's deny samples are not counted again: its counters stand for them.
    await report([denied()], counters(1100));
    expect(await metric('ingress[0]')).toBe(samples + 1100);
  });
});
