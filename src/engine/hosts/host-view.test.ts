import { describe, expect, it } from 'vitest';
import type { Document } from '../../model/types.js';
import { Engine } from '../engine.js';

/**
 * One partition of `records` records on 4 hosts, one record per app; settings and the
 * partition's intra default as given. The write retags r0 to an app no record has: a
 * new identity in the partition.
 */
function partitionModel(
  records: number,
  intra: 'allow' | 'deny',
  crossPartition: 'allow' | 'deny',
) {
  const docs: Document[] = [
    { kind: 'Settings', name: 'default', defaults: { unpartitioned: 'deny', crossPartition } },
    { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/16' },
    { kind: 'Partition', name: 'prod', selector: 'env == "prod"', intra },
    ...[0, 1, 2, 3].map((h): Document => ({ kind: 'Instance', name: `vm${h}`, host: `h${h}` })),
    ...Array.from({ length: records }, (_, i): Document => ({
      kind: 'Interface',
      name: `r${i}`,
      subnet: 'net',
      instance: `vm${i % 4}`,
      ips: [`10.0.${i >> 8}.${i & 255}`],
      tags: { env: 'prod', app: `a${i}` },
    })),
    {
      kind: 'Policy',
      name: 'p',
      priority: 100,
      appliesTo: 'app == "a1"',
      ingress: [{ action: 'allow', from: { selector: 'app == "a2"' }, ports: ['tcp/80'] }],
      egress: [],
      routes: [],
      mode: 'enforce',
    },
  ];
  const engine = new Engine({ identityGraceMs: 60_000 });
  engine.load(docs, 0);
  engine.hostDelta();
  const r0 = docs.find((d) => d.name === 'r0')! as Extract<Document, { kind: 'Interface' }>;
  const delta = engine.apply([{ op: 'put', doc: { ...r0, tags: { env: 'prod', app: 'new' } } }], 1);
  return { engine, delta };
}

describe('HostView.hostDelta', () => {
  it('lists only the new identity when it joins a partition whose intra default equals crossPartition', () => {
    for (const d of ['allow', 'deny'] as const) {
      const { engine, delta } = partitionModel(400, d, d);
      const view = engine.hostDelta(delta);
      expect(view.identities.map((i) => i.identity)).toEqual([engine.recordIdentity('r0')]);
      expect(view.records.map((r) => r.name)).toEqual(['r0']);
    }
  });

  it('lists every partition mate when their default rows change (intra differs from crossPartition)', () => {
    const { engine, delta } = partitionModel(40, 'allow', 'deny');
    const view = engine.hostDelta(delta);
    // Each mate's DefaultState lists the new identity (intra allow ≠ crossPartition deny).
    expect(view.identities.length).toBe(40);
    const mate = view.identities.find((i) => i.identity === engine.recordIdentity('r5'))!;
    expect(mate.defaults.peers).toContainEqual({
      peer: engine.recordIdentity('r0'),
      verdict: 'allow',
    });
  });

  it('a full view lists every record and every local identity, and the steer table', () => {
    const { engine } = partitionModel(12, 'deny', 'deny');
    const view = engine.hostDelta();
    expect(view.full).toBe(true);
    expect(view.records).toHaveLength(12);
    expect(view.identities).toHaveLength(12);
    expect(view.steering).toEqual([]);
    expect(view.hosts).toBe('all');
  });
});
