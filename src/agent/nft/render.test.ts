import { describe, expect, it } from 'vitest';
import type { HostState, SideState } from '../../model/host-state.js';
import { makeRng } from '../../../test/support/rng.js';
import { hostStateOf, peerEntry } from '../../../test/e2e/support/host-states.js';
import { mutateHostState, randomHostState } from '../../../test/e2e/support/random-state.js';
import { sideVerdict } from '../evaluate.js';
import { vethName } from '../names.js';
import { buildTable } from './build-table.js';
import { localSlots } from './local-slots.js';
import { DENY } from './deny-chain.js';
import type { SetDecl } from './table.js';
import { renderDelta, renderRuleset } from './render.js';
import { commandCount, type NftCommand } from './types.js';

/** Record a's slot: the chains and maps of its identity 256 are named by it. */
const A = vethName('a');

const recs = [
  { name: 'a', identity: 256, ips: ['10.0.0.1', 'fd00::1'], host: 'h1' },
  { name: 'b', identity: 257, ips: ['10.0.0.2'], host: 'h2' },
];

function state(sides: SideState[], revision = 1, extra: typeof recs = []): HostState {
  const all = [...recs, ...extra];
  return hostStateOf(
    'h1',
    revision,
    all,
    sides,
    all.map((r) => ({ identity: r.identity, other: 'deny' as const, peers: [] })),
    { h2: '192.0.2.2' },
  );
}

const egress = (peers: SideState['peers'], extra: Partial<SideState> = {}): SideState => ({
  identity: 256,
  direction: 'egress',
  cidr: [],
  peers,
  any: [],
  ...extra,
});

function elems(set: SetDecl | undefined): unknown[] {
  return [...(set?.elems.values() ?? [])];
}

const ops = (doc: { nftables: NftCommand[] }, op: string, what: string) =>
  doc.nftables.filter((c) => op in c && what in (c[op] as object));

describe('renderRuleset', () => {
  it('puts peer entries in the per-identity verdict map, logs through a log chain', () => {
    const m = buildTable(
      state([
        egress([
          peerEntry(257, 'tcp', 80, 90, 'allow'),
          peerEntry(257, 'udp', 53, 53, 'log', 'dns', 'egress[1]'),
        ]),
      ]),
    );
    // A port range goes to the interval map, one port to the hash map.
    expect(elems(m.sets.get(`eg-${A}-p`))).toEqual([
      [{ concat: [257, 'tcp', { range: [80, 90] }] }, { return: null }],
    ]);
    expect(elems(m.sets.get(`eg-${A}-pe`))).toEqual([
      [{ concat: [257, 'udp', 53] }, { goto: { target: 'lg-dns-egress-1' } }],
    ]);
    expect(m.chains.get('lg-dns-egress-1')!.rules).toEqual([
      [{ counter: { packets: 0, bytes: 0 } }, { log: { prefix: 'vnp:dns:egress[1] ' } }],
    ]);
    expect(elems(m.sets.get('ifid'))).toEqual([[vethName('a'), 256]]);
    expect(elems(m.sets.get('egress-dispatch'))).toEqual([
      [vethName('a'), { jump: { target: `eg-${A}` } }],
    ]);
    // Remote records are in the ipcache; only local identities get chains.
    expect(elems(m.sets.get('ipcache4'))).toContainEqual(['10.0.0.2', 257]);
    expect(m.chains.has(`eg-${vethName('b')}`)).toBe(false);
  });

  it('routes cidr entries by family, icmp separately from ports', () => {
    const side = egress([peerEntry(257, 'icmp', 0, 0, 'allow')], {
      cidr: [
        {
          range: '192.0.2.0/24',
          proto: 'tcp',
          ports: [443, 443],
          verdict: 'deny',
          policy: 'p',
          rule: 'egress[0]',
        },
        {
          range: '2001:db8::/32',
          proto: 'udp',
          ports: [1, 100],
          verdict: 'allow',
          policy: 'p',
          rule: 'egress[1]',
        },
        {
          range: '198.51.100.1-198.51.100.9',
          proto: 'icmp',
          ports: [0, 0],
          verdict: 'deny',
          policy: 'p',
          rule: 'egress[2]',
        },
      ],
      any: [{ proto: 'icmp', ports: [0, 65535], verdict: 'allow', policy: 'p', rule: 'egress[3]' }],
    });
    const m = buildTable(state([side]));
    expect(elems(m.sets.get(`eg-${A}-c4`))).toEqual([
      [
        { concat: [{ range: ['192.0.2.0', '192.0.2.255'] }, 'tcp', { range: [443, 443] }] },
        { goto: { target: 'dn-p-e0' } },
      ],
    ]);
    expect(elems(m.sets.get(`eg-${A}-c6`))).toHaveLength(1);
    expect(elems(m.sets.get(`eg-${A}-c4i`))).toEqual([
      [{ range: ['198.51.100.1', '198.51.100.9'] }, { goto: { target: 'dn-p-e2' } }],
    ]);
    expect(elems(m.sets.get(`eg-${A}-pi`))).toEqual([[257, { return: null }]]);
    // The any-icmp entry is one rule of the chain, not a map element.
    const rules = JSON.stringify(m.chains.get(`eg-${A}`)!.rules);
    expect(rules).toContain('"ipv6-icmp"');
  });

  it('does not grow the rule count with the number of policy entries', () => {
    // One deny rule either way: its chain is one rule, however many entries it denies.
    const few = renderRuleset(
      state([
        egress([peerEntry(257, 'tcp', 80, 80, 'allow'), peerEntry(258, 'tcp', 81, 81, 'deny')]),
      ]),
    );
    const many = renderRuleset(
      state([
        egress(
          Array.from({ length: 2000 }, (_, i) =>
            peerEntry(300 + i, 'tcp', 1000 + i, 1000 + i, i % 2 ? 'allow' : 'deny'),
          ),
        ),
      ]),
    );
    expect(ops(many, 'add', 'rule').length).toBe(ops(few, 'add', 'rule').length);
  });

  it('replaces the table atomically: add, delete, add in one document', () => {
    const doc = renderRuleset(state([]));
    expect(doc.nftables.slice(1, 4)).toEqual([
      { add: { table: { family: 'inet', name: 'vnp' } } },
      { delete: { table: { family: 'inet', name: 'vnp' } } },
      { add: { table: { family: 'inet', name: 'vnp' } } },
    ]);
  });

  it('makes overlapping entries disjoint, the strictest verdict winning', () => {
    const m = buildTable(
      state([
        egress([
          peerEntry(257, 'tcp', 80, 100, 'allow'),
          peerEntry(257, 'tcp', 90, 95, 'deny'),
          peerEntry(257, 'tcp', 99, 120, 'log'),
        ]),
      ]),
    );
    expect(elems(m.sets.get(`eg-${A}-p`)).map((e) => JSON.stringify(e))).toEqual([
      JSON.stringify([{ concat: [257, 'tcp', { range: [80, 89] }] }, { return: null }]),
      JSON.stringify([
        { concat: [257, 'tcp', { range: [90, 95] }] },
        { goto: { target: 'dn-p-e0' } },
      ]),
      JSON.stringify([{ concat: [257, 'tcp', { range: [96, 98] }] }, { return: null }]),
      JSON.stringify([
        { concat: [257, 'tcp', { range: [99, 120] }] },
        { goto: { target: 'lg-p-egress-0' } },
      ]),
    ]);
  });

  it('agrees with the lookup order for random states (cidr, peer, any and default maps)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = makeRng(seed);
      const s = randomHostState(rng, 2);
      const m = buildTable(s);
      for (const side of s.sides) {
        const slot = localSlots(s).get(side.identity)!;
        const c = `${side.direction === 'egress' ? 'eg' : 'in'}-${slot}`;
        for (let k = 0; k < 50; k++) {
          const peer = rng.pick([1, 256, 257, 400, 401]);
          const proto = rng.pick(['tcp', 'udp'] as const);
          const port = rng.int(1, 240);
          const addr = rng.pick([
            '10.200.0.1',
            `10.${rng.int(0, 3)}.0.${rng.int(0, 45)}`,
            `fd00:${rng.int(0, 3).toString(16)}::${rng.int(0, 9)}`,
          ]);
          const expected = sideVerdict(s, side.identity, side.direction, peer, addr, {
            src: '',
            dst: '',
            proto,
            port,
          });
          const other = s.defaults.find((d) => d.identity === side.identity)!.other;
          const got = lookupTable(m.sets, c, slot, peer, addr, proto, port, other);
          expect({ seed, peer, addr, proto, port, v: got }).toEqual({
            seed,
            peer,
            addr,
            proto,
            port,
            v: expected,
          });
        }
      }
    }
  });

  it('always renders pairwise disjoint interval elements', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const m = buildTable(randomHostState(makeRng(seed), 3));
      for (const s of m.sets.values()) {
        if (!s.flags?.includes('interval')) continue;
        const boxes = [...s.elems.values()].map((e) => box((e as unknown[])[0]));
        for (let i = 0; i < boxes.length; i++)
          for (let j = i + 1; j < boxes.length; j++)
            expect({ seed, set: s.name, overlap: overlaps(boxes[i]!, boxes[j]!) }).toEqual({
              seed,
              set: s.name,
              overlap: false,
            });
      }
    }
  });
});

describe('renderDelta', () => {
  it('is empty for an unchanged state', () => {
    const s = randomHostState(makeRng(7), 3);
    expect(renderDelta(s, structuredClone(s)).nftables).toEqual([]);
  });

  it('changes only elements for a policy change', () => {
    const a = state([egress([peerEntry(257, 'tcp', 80, 80, 'allow')])]);
    const b = state([egress([peerEntry(257, 'tcp', 80, 80, 'deny')])], 2);
    const d = renderDelta(a, b);
    expect(ops(d, 'delete', 'table')).toHaveLength(0);
    expect(ops(d, 'delete', 'element')).toHaveLength(1);
    expect(ops(d, 'add', 'element')).toHaveLength(1);
    // The deny rule's chain and counter come with its first element.
    expect(ops(d, 'add', 'rule')).toHaveLength(1);
    expect(ops(d, 'add', 'counter')).toHaveLength(1);
    const back = renderDelta(b, { ...a, revision: 3 });
    expect(ops(back, 'add', 'rule')).toHaveLength(0);
    expect(ops(back, 'delete', 'chain')).toHaveLength(1);
    expect(ops(back, 'delete', 'counter')).toHaveLength(1);
  });

  it('adds and removes a local identity with its chains and maps', () => {
    const a = state([]);
    const b = state([], 2, [{ name: 'c', identity: 300, ips: ['10.0.0.3'], host: 'h1' }]);
    const up = renderDelta(a, b);
    expect(ops(up, 'delete', 'table')).toHaveLength(0);
    expect(
      ops(up, 'add', 'chain').map((c) => (c.add as { chain: { name: string } }).chain.name),
    ).toEqual([`eg-${vethName('c')}`, `in-${vethName('c')}`]);
    const down = renderDelta(b, a);
    expect(
      ops(down, 'delete', 'chain').map((c) => (c.delete as { chain: { name: string } }).chain.name),
    ).toEqual([`eg-${vethName('c')}`, `in-${vethName('c')}`]);
    // Chains stop being used (dispatch elements deleted) before they are deleted.
    const idx = (pred: (c: NftCommand) => boolean) => down.nftables.findIndex(pred);
    expect(idx((c) => 'delete' in c && 'element' in (c.delete as object))).toBeLessThan(
      idx((c) => 'delete' in c && 'chain' in (c.delete as object)),
    );
  });

  it('falls back to a full replace when most of the table changes', () => {
    const a = randomHostState(makeRng(3), 6);
    const b = randomHostState(makeRng(4), 1, 2);
    const d = renderDelta(a, b);
    expect(commandCount(d)).toBe(commandCount(renderRuleset(b)));
    expect(ops(d, 'delete', 'table')).toHaveLength(1);
  });

  it('is never larger than the full render for random changes', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = makeRng(seed);
      const a = randomHostState(rng, 3);
      const b = mutateHostState(rng, a);
      expect(commandCount(renderDelta(a, b))).toBeLessThanOrEqual(commandCount(renderRuleset(b)));
    }
  });
});

/** Looks a flow up in a table's peer/any/default maps like the kernel would. */
function lookupTable(
  sets: Map<string, SetDecl>,
  chain: string,
  slot: string,
  peer: number,
  addr: string,
  proto: string,
  port: number,
  other: 'allow' | 'deny',
): 'allow' | 'deny' {
  // A deny goes to the deny chain, directly (a default) or through its rule's chain.
  const verdict = (v: unknown): 'allow' | 'deny' =>
    JSON.stringify(v) === JSON.stringify(DENY) ||
    String((v as { goto?: { target?: string } }).goto?.target).startsWith('dn-')
      ? 'deny'
      : 'allow';
  const hit = (set: string, key: (k: unknown[]) => boolean) =>
    elems(sets.get(set)).find((e) => key(((e as unknown[])[0] as { concat: unknown[] }).concat));
  const inPort = (p: unknown) =>
    typeof p === 'number'
      ? p === port
      : (p as { range: number[] }).range[0]! <= port &&
        port <= (p as { range: number[] }).range[1]!;
  const a0 = scalar(addr);
  const inAddr = (k: unknown) => {
    const [lo, hi] = box(k)[0]!;
    return lo <= a0 && a0 <= hi;
  };
  const cidrMap = addr.includes(':') ? `${chain}-c6` : `${chain}-c4`;
  const c = hit(cidrMap, (k) => inAddr(k[0]) && k[1] === proto && inPort(k[2]));
  if (c) return verdict((c as unknown[])[1]);
  const p =
    hit(`${chain}-pe`, (k) => k[0] === peer && k[1] === proto && k[2] === port) ??
    hit(`${chain}-p`, (k) => k[0] === peer && k[1] === proto && inPort(k[2]));
  if (p) return verdict((p as unknown[])[1]);
  const any = hit(`${chain}-a`, (k) => k[0] === proto && inPort(k[1]));
  if (any) return verdict((any as unknown[])[1]);
  const d = elems(sets.get(`def-${slot}`)).find((e) => (e as unknown[])[0] === peer);
  if (d) return verdict((d as unknown[])[1]);
  // The `other` default is the chain's last rule, not a map element.
  return other;
}

type Box = [bigint, bigint][];

/** An element key as a box of inclusive intervals (addresses and ports as bigints). */
function box(key: unknown): Box {
  const parts =
    typeof key === 'object' && key !== null && 'concat' in key
      ? (key as { concat: unknown[] }).concat
      : [key];
  return parts.map((p) => {
    if (typeof p === 'object' && p !== null && 'range' in p) {
      const [lo, hi] = (p as { range: unknown[] }).range;
      return [scalar(lo), scalar(hi)];
    }
    return [scalar(p), scalar(p)];
  });
}

function scalar(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  const s = String(v);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s))
    return s.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);
  if (s.includes(':')) {
    const [head, tail] = s.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups =
      tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  }
  return BigInt([...s].reduce((a, c) => a * 31 + c.charCodeAt(0), 0));
}

function overlaps(a: Box, b: Box): boolean {
  return a.every(([lo, hi], i) => lo <= b[i]![1] && b[i]![0] <= hi);
}
