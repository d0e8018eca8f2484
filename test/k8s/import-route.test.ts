/**
 * `POST /v1/import/k8s` on a real manager: all or nothing, declarative per source
 * (prunes only what the same source made), refuses bad input and name clashes
 * without changing anything, runs kind: Test documents, admin only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { clusterObjects, networkPolicy, POD_CIDR } from './support/netpol-model.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 180_000);
afterAll(async () => {
  await s?.close();
});

async function snapshot(): Promise<string> {
  const lists = await Promise.all(
    ['subnets', 'interfaces', 'policies'].map((k) => s.call('GET', `/v1/${k}`)),
  );
  return JSON.stringify(lists.map((l) => l.body));
}
const importK8s = (body: Record<string, unknown>, as?: 'viewer') =>
  s.call('POST', '/v1/import/k8s', { body, ...(as ? { as } : {}) });
const denyAll = networkPolicy('x', 'deny-all', { podSelector: {}, ingress: [] });
const names = async (kind: string): Promise<string[]> =>
  ((await s.call('GET', `/v1/${kind}`)).body.items as { name: string }[]).map((d) => d.name);

describe('POST /v1/import/k8s', () => {
  it('refuses an import into a missing subnet, changing nothing', async () => {
    const before = await snapshot();
    const r = await importK8s({ objects: clusterObjects() });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/no Subnet named "pods"/);
    expect(await snapshot()).toBe(before);
  });

  it('a dry run returns the documents and changes nothing', async () => {
    const sub = await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          { kind: 'Subnet', name: 'pods', cidr: POD_CIDR },
          {
            kind: 'Interface',
            name: 'vm-1',
            subnet: 'pods',
            ips: ['10.244.9.1'],
            tags: { app: 'vm' },
          },
          {
            kind: 'Policy',
            name: 'hand',
            priority: 5,
            appliesTo: 'app == "vm"',
            ingress: [],
            egress: [],
            routes: [],
          },
        ],
      },
    });
    expect(sub.status, sub.text).toBe(200);
    const before = await snapshot();
    const rev = s.manager.revision;
    const r = await importK8s({ objects: [...clusterObjects(), denyAll], dryRun: true });
    expect(r.status, r.text).toBe(200);
    expect(r.body.dryRun).toBe(true);
    expect(r.body.documents.map((d: { name: string }) => d.name)).toContain(
      'k8s.x.deny-all_isolation',
    );
    expect(r.body.documents.filter((d: { kind: string }) => d.kind === 'Interface')).toHaveLength(
      9,
    );
    expect(s.manager.revision).toBe(rev);
    expect(await snapshot()).toBe(before);
  });

  it('imports as one revision and explains verdicts by NetworkPolicy', async () => {
    const rev = s.manager.revision;
    const r = await importK8s({ objects: [...clusterObjects(), denyAll] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.revision).toBe(rev + 1);
    const c = await s.call('POST', '/v1/check', {
      body: { src: 'k8s.y.a', dst: 'k8s.x.b', port: 80 },
    });
    expect(c.body.verdict).toBe('deny');
    expect(c.body.ingress.policy).toBe('k8s.x.deny-all_isolation');
  });

  it('re-import prunes what this source made and is gone, and nothing else', async () => {
    const other = await importK8s({
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'q' } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'q' },
          status: { podIP: '10.244.8.1' },
        },
        networkPolicy('q', 'deny-all', { podSelector: {} }),
      ],
      source: 'other',
    });
    expect(other.status, other.text).toBe(200);
    const without = clusterObjects().filter(
      (o) =>
        !(
          o.kind === 'Pod' && (o.metadata as { name: string; namespace: string }).namespace === 'z'
        ),
    );
    const r = await importK8s({ objects: without });
    expect(r.status, r.text).toBe(200);
    expect(
      r.body.diff
        .filter((d: { op: string }) => d.op === 'delete')
        .map((d: { name: string }) => d.name)
        .sort(),
    ).toEqual(['k8s.x.deny-all_isolation', 'k8s.z.a', 'k8s.z.b', 'k8s.z.c']);
    const ifaces = await names('interfaces');
    expect(ifaces).toContain('vm-1');
    expect(ifaces).toContain('other.q.p');
    expect(ifaces).not.toContain('k8s.z.a');
    const policies = await names('policies');
    expect(policies).toEqual(expect.arrayContaining(['hand', 'other.q.deny-all_isolation']));
    expect(policies).not.toContain('k8s.x.deny-all_isolation');
  });

  it('refuses to replace a hand-made resource of the same name', async () => {
    await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          {
            kind: 'Policy',
            name: 'k8s.y.mine_isolation',
            priority: 1,
            appliesTo: 'all()',
            ingress: [],
            egress: [],
            routes: [],
          },
        ],
      },
    });
    const before = await snapshot();
    const r = await importK8s({
      objects: [...clusterObjects(), networkPolicy('y', 'mine', { podSelector: {} })],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(
      /Policy k8s\.y\.mine_isolation exists and was made by hand/,
    );
    expect(await snapshot()).toBe(before);
  });

  it('bad input is refused with the field named and changes nothing', async () => {
    const before = await snapshot();
    const r = await importK8s({
      objects: [
        ...clusterObjects(),
        networkPolicy('x', 'p', {
          podSelector: {},
          ingress: [{ ports: [{ port: 'serve-80-tcp', endPort: 81 }] }],
        }),
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('objects[12].spec.ingress[0].ports[0].endPort');
    const bad = await importK8s({ objects: clusterObjects(), source: 'Bad.Source' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('source');
    expect(await snapshot()).toBe(before);
  });

  it('kind: Test documents are checked on the imported state; one failure refuses all', async () => {
    const before = await snapshot();
    const tests = [
      {
        kind: 'Test',
        name: 'y-to-x-denied',
        src: 'k8s.y.a',
        dst: 'k8s.x.a',
        port: 80,
        expect: 'deny',
      },
      {
        kind: 'Test',
        name: 'x-to-y-open',
        src: 'k8s.x.a',
        dst: 'k8s.y.a',
        port: 80,
        expect: 'deny',
      },
    ];
    const r = await importK8s({ objects: [...clusterObjects(), denyAll, ...tests] });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_TEST_FAILED');
    expect(r.body.error.details.failed.map((t: { name: string }) => t.name)).toEqual([
      'x-to-y-open',
    ]);
    expect(await snapshot()).toBe(before);
    const ok = await importK8s({ objects: [...clusterObjects(), denyAll, tests[0]] });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.tests[0].passed).toBe(true);
  });

  it('is for admins only', async () => {
    const r = await importK8s({ objects: [] }, 'viewer');
    expect(r.status).toBe(403);
  });
});
