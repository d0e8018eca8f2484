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

describe('HostView.hostDelta: a new identity in a rule-peer selector', () => {
  /** 40 records, one app each, all in `env == "prod"`; a1 admits every prod identity. */
  function peerModel(): Document[] {
    return [
      { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/16' },
      { kind: 'Instance', name: 'vm0', host: 'h0' },
      ...Array.from({ length: 40 }, (_, i): Document => ({
        kind: 'Interface',
        name: `r${i}`,
        subnet: 'net',
        instance: 'vm0',
        ips: [`10.0.0.${i + 1}`],
        tags: { env: 'prod', app: `a${i}` },
      })),
      {
        kind: 'Policy',
        name: 'p',
        priority: 100,
        appliesTo: 'app == "a1"',
        ingress: [{ action: 'allow', from: { selector: 'env == "prod"' }, ports: ['tcp/80'] }],
        egress: [],
        routes: [],
        mode: 'enforce',
      },
    ];
  }

  it('patches the sides that name it: every other peer keeps its entry objects, the result equals a fresh listing', () => {
    const docs = peerModel();
    const engine = new Engine({ identityGraceMs: 0 });
    engine.load(docs, 0);
    const a1 = engine.recordIdentity('r1')!;
    const ingressOf = (v: ReturnType<Engine['hostDelta']>) =>
      v.identities.find((i) => i.identity === a1)!.sides.find((s) => s.direction === 'ingress')!;
    const before = ingressOf(engine.hostDelta());
    expect(before.peers).toHaveLength(40);

    const r0 = docs.find((d) => d.name === 'r0') as Extract<Document, { kind: 'Interface' }>;
    const moved = { ...r0, tags: { env: 'prod', app: 'new' } };
    const delta = engine.apply([{ op: 'put', doc: moved }], 1);
    const fresh = engine.recordIdentity('r0')!;
    expect(delta.identitiesAdded.map((i) => i.id)).toEqual([fresh]);
    const view = engine.hostDelta(delta);
    const after = ingressOf(view);

    // The patch (grace 0: r0's old identity is released in the same batch): its entry
    // gone, the new one's added, the 39 others the very objects listed before.
    expect(delta.identitiesReleased).toHaveLength(1);
    expect(after.peers).toHaveLength(40);
    expect(after.peers.map((e) => e.peer)).toContain(fresh);
    const byPeer = new Map(before.peers.map((e) => [e.peer, e]));
    for (const e of after.peers) {
      if (e.peer === fresh) expect(e).toMatchObject({ verdict: 'allow', policy: 'p' });
      else expect(e).toBe(byPeer.get(e.peer));
    }
    // a1's default row did not change (its partitions did not): the listed one is reused.
    expect(delta.defaults).not.toContain(a1);

    // Exact: a fresh engine with the same allocations lists the same side and defaults.
    const again = new Engine({ identityGraceMs: 0 });
    again.load(
      docs.map((d) => (d.name === 'r0' ? moved : d)),
      1,
      { identities: engine.identityAllocations() },
    );
    const full = again.hostDelta().identities.find((i) => i.identity === a1)!;
    const listed = view.identities.find((i) => i.identity === a1)!;
    expect(listed.sides).toEqual(full.sides);
    expect(listed.defaults).toEqual(full.defaults);
  });
});
