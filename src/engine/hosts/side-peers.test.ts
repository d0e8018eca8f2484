/**
 * What an identity-changing write leaves behind in the engine's peer lists: entries of
 * one hidden class, and no chain of earlier listings (docs/adr/0064).
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { PeerEntry, SideState } from '../../model/host-state.js';
import { peerListOf } from '../../model/peer-list-origin.js';
import type { Document } from '../../model/types.js';
import { Engine } from '../engine.js';

/**
 * 40 records on 4 hosts, apps a0…a9; a1's ingress allows `env == "dev"` on two
 * ports. `join(i)` retags a record to a new app in dev: a new identity that joins
 * the rule peer, so a1's ingress side is listed again by patching.
 */
function model() {
  const records = Array.from({ length: 40 }, (_, i): Extract<Document, { kind: 'Interface' }> => ({
    kind: 'Interface',
    name: `r${i}`,
    subnet: 'net',
    instance: `vm${i % 4}`,
    ips: [`10.0.0.${i + 1}`],
    tags: { env: i % 2 ? 'dev' : 'prod', app: `a${i % 10}` },
  }));
  const docs: Document[] = [
    { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/16' },
    ...[0, 1, 2, 3].map((h): Document => ({ kind: 'Instance', name: `vm${h}`, host: `h${h}` })),
    ...records,
    {
      kind: 'Policy',
      name: 'p',
      priority: 100,
      appliesTo: 'app == "a1"',
      ingress: [
        { action: 'allow', from: { selector: 'env == "dev"' }, ports: ['tcp/80', 'tcp/443'] },
      ],
      egress: [],
      routes: [],
      mode: 'enforce',
    },
  ];
  const engine = new Engine();
  engine.load(docs, 0);
  engine.hostDelta();
  const a1 = engine.recordIdentity('r1')!;
  /** a1's ingress side as the next host view delta lists it, after `r{i}` got a new identity. */
  let n = 0;
  const join = (i: number): SideState => {
    const doc = { ...records[i]!, tags: { env: 'dev', app: `new${n++}` } };
    const view = engine.hostDelta(engine.apply([{ op: 'put', doc }], i));
    const side = view.identities
      .find((s) => s.identity === a1)
      ?.sides.find((s) => s.direction === 'ingress');
    if (!side) throw new Error('a1 ingress not listed');
    return side;
  };
  /** a1's ingress side listed whole (a fork builds its sides afresh from the same state). */
  const whole = (): SideState => {
    const side = engine
      .fork()
      .identityRules(a1)
      .sides.find((s) => s.direction === 'ingress');
    if (!side) throw new Error('a1 ingress not listed');
    return side;
  };
  return { join, whole };
}

describe('side peer lists', () => {
  it('a patched list remembers the list it came from, and that list forgets its patch', () => {
    const { join } = model();
    const first = join(2);
    const second = join(4);
    expect(peerListOf(second)?.patch?.from).toBe(peerListOf(first));
    const third = join(6);
    expect(peerListOf(third)?.patch?.from).toBe(peerListOf(second));
    // Kept, the second's patch would keep the first list, and its patch the one
    // before: every list the side ever had (0.4 MB per write at 6,000 records).
    expect(peerListOf(second)?.patch).toBeUndefined();
  });

  it('a patched list is read whole only when asked, and then as a whole listing gives it', () => {
    const { join, whole } = model();
    const sides: SideState[] = [];
    const expected = new Map<number, string>();
    for (let k = 0; k < 40; k++) {
      sides.push(join(2 + 2 * (k % 19)));
      if (k % 3 === 0) expected.set(k, JSON.stringify(whole().peers));
    }
    // Each listing, read after 40 more patches, has its own entries (past a built list too).
    for (const [k, json] of expected) expect(JSON.stringify(sides[k]!.peers)).toBe(json);
    const last = sides[sides.length - 1]!;
    expect(peerListOf(whole())).not.toBe(peerListOf(last));
    expect(JSON.stringify(last)).toBe(JSON.stringify(whole()));
    expect({ ...last }.peers).toEqual(whole().peers);
  });

  it('every peer entry, listed whole or patched, has one hidden class', () => {
    setFlagsFromString('--allow-natives-syntax');
    const sameClass = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
      a: unknown,
      b: unknown,
    ) => boolean;
    const { join } = model();
    const entries: PeerEntry[] = [];
    for (let i = 2; i < 40; i += 2) entries.push(...join(i).peers);
    expect(entries.length).toBeGreaterThan(40);
    // A copy spread from a built entry ({ ...entry, peer }) got a class of its own.
    expect(entries.filter((e) => !sameClass(e, entries[0])).length).toBe(0);
  });
});
