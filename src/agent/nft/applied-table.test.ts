/**
 * The incremental table against the full derivation: applying a random sequence of
 * states by delta yields, document by document, the same table (sets, elements,
 * chains) as a full render of the final state; and a one-entry change is exactly one
 * element command, whatever the size of the side. The documents run through a strict
 * interpreter (test/support/nft-interpreter.ts); render.privileged.test.ts and the
 * agent's kernel tests run them through the real nft.
 */
import { describe, expect, it } from 'vitest';
import type { Direction, HostState, PeerEntry, SideState } from '../../model/host-state.js';
import { hostStateOf, peerEntry as entry } from '../../../test/e2e/support/host-states.js';
import {
  mutateHostState,
  randomHostState,
  retagLocal,
} from '../../../test/e2e/support/random-state.js';
import {
  comparable,
  interpret,
  type InterpretedTable,
} from '../../../test/support/nft-interpreter.js';
import { makeRng, type Rng } from '../../../test/support/rng.js';
import { FlowJudge, type Flow } from '../evaluate.js';
import { AppliedTable } from './applied-table.js';
import { buildTable } from './build-table.js';
import { localSlots } from './local-slots.js';
import { renderRuleset, renderTable } from './render.js';
import { commandCount } from './types.js';

const VERDICTS = ['allow', 'deny', 'log'] as const;

function peerEntry(rng: Rng, rule: number): PeerEntry {
  const proto = rng.pick(['tcp', 'udp', 'icmp'] as const);
  const lo = proto === 'icmp' ? 0 : rng.int(1, 120);
  return {
    peer: rng.pick([1, 256, 257, 400, 401, 500]),
    proto,
    ports: [lo, proto === 'icmp' ? rng.pick([0, 65535]) : lo + rng.int(0, 20)],
    verdict: rng.pick(VERDICTS),
    policy: `pol${rng.int(0, 2)}`,
    rule: `egress[${rule}]`,
  };
}

/**
 * A small change sharing everything else with `s` (as applyHostDelta leaves a state):
 * one entry of one side inserted, removed or changed, a side dropped, a default flipped.
 */
function nudge(rng: Rng, s: HostState): HostState {
  const next: HostState = { ...s, revision: s.revision + 1, sides: s.sides.slice() };
  if (next.sides.length === 0 || rng.chance(0.1)) {
    next.defaults = s.defaults.map((d) =>
      rng.chance(0.5) ? { ...d, other: d.other === 'allow' ? 'deny' : 'allow' } : d,
    );
    return next;
  }
  const i = rng.int(0, next.sides.length - 1);
  if (rng.chance(0.05)) {
    next.sides.splice(i, 1);
    return next;
  }
  const side: SideState = { ...next.sides[i]!, peers: next.sides[i]!.peers.slice() };
  const at = rng.int(0, side.peers.length);
  const kind = rng.int(0, 2);
  if (kind === 0 || side.peers.length === 0) side.peers.splice(at, 0, peerEntry(rng, at));
  else if (kind === 1) side.peers.splice(Math.min(at, side.peers.length - 1), 1);
  else {
    const j = Math.min(at, side.peers.length - 1);
    side.peers[j] = { ...side.peers[j]!, verdict: rng.pick(VERDICTS) };
  }
  if (rng.chance(0.2))
    side.any = [...side.any, { ...peerEntry(rng, 9), proto: 'icmp', ports: [0, 0] }];
  next.sides[i] = side;
  return next;
}

/** Flows from and to every local address, with every address of the state, at `ports`. */
function* flowsOf(s: HostState, ports: number[]): Generator<Flow> {
  const all = [
    ...new Set([
      ...s.ipcache.map((e) => e.ip),
      ...[...s.locals, ...s.remotes].flatMap((r) => r.ips),
    ]),
  ];
  for (const local of s.locals.flatMap((r) => r.ips))
    for (const other of all)
      for (const [src, dst] of [
        [local, other],
        [other, local],
      ] as const) {
        if (src === dst) continue;
        yield { src, dst, proto: 'icmp', port: 0 };
        for (const port of ports)
          for (const proto of ['tcp', 'udp'] as const) yield { src, dst, proto, port };
      }
}

/** The next state of a random sequence: a nudge, a tag change of a local record, or a bigger change. */
function nextState(rng: Rng, s: HostState): HostState {
  if (rng.chance(0.2)) return retagLocal(rng, s);
  return rng.chance(0.25) ? mutateHostState(rng, s) : nudge(rng, s);
}

const full = (s: HostState): InterpretedTable => interpret(undefined, renderRuleset(s));

describe('AppliedTable', () => {
  it('applies random sequences by delta to the table a full render of each state gives', () => {
    let deltas = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const rng = makeRng(seed);
      let state = randomHostState(rng, rng.int(1, 4));
      let applied = AppliedTable.build(state);
      let kernel = interpret(undefined, renderTable(applied.table));
      expect(comparable(kernel)).toEqual(comparable(full(state)));
      for (let step = 0; step < 12; step++) {
        const next = nextState(rng, state);
        const doc = applied.advance(next);
        if (doc === undefined) {
          applied = AppliedTable.build(next);
          kernel = interpret(undefined, renderTable(applied.table));
        } else {
          kernel = interpret(kernel, doc);
          deltas++;
        }
        const want = comparable(full(next));
        expect({ seed, step, table: comparable(kernel) }).toEqual({ seed, step, table: want });
        // The table the agent keeps is the one it enforced.
        const kept = comparable(interpret(undefined, renderTable(applied.table)));
        expect({ seed, step, table: kept }).toEqual({ seed, step, table: want });
        state = next;
      }
    }
    expect(deltas).toBeGreaterThan(300);
  });

  it('a one-entry change is one element command, whatever the size of the side', () => {
    const rng = makeRng(7);
    const base = randomHostState(rng, 2);
    const side = base.sides[0]!;
    side.peers = Array.from({ length: 20_000 }, (_, i) => ({
      peer: 1000 + Math.floor(i / 100),
      proto: 'tcp' as const,
      ports: [20_000 + (i % 100), 20_000 + (i % 100)] as [number, number],
      verdict: 'allow' as const,
      policy: 'bench',
      rule: 'egress[0]',
    }));
    const applied = AppliedTable.build(base);
    // A fresh copy of the whole side (as off the wire) with one entry more, in front.
    const extra: PeerEntry = { ...side.peers[0]!, peer: 999, ports: [40_000, 40_000] };
    const next: HostState = {
      ...base,
      revision: 2,
      sides: base.sides.map((s, i) =>
        i === 0 ? structuredClone({ ...s, peers: [extra, ...s.peers] }) : s,
      ),
    };
    const doc = applied.advance(next)!;
    expect(commandCount(doc)).toBe(1);
    expect(doc.nftables[1]).toEqual({
      add: {
        element: {
          family: 'inet',
          table: 'vnp',
          name: `${side.direction === 'egress' ? 'eg' : 'in'}-${localSlots(base).get(side.identity)}-pe`,
          elem: [[{ concat: [999, 'tcp', 40_000] }, { return: null }]],
        },
      },
    });
    // An added allow entry denies nothing: no connection needs judging again.
    expect(applied.change.identities.size).toBe(0);
    // And back: one delete, which may deny a's established flows: they are judged.
    expect(commandCount(applied.advance({ ...base, revision: 3 })!)).toBe(1);
    expect([...applied.change.identities]).toEqual([side.identity]);
    expect(applied.change.localSenders).toBe(side.direction === 'ingress');
    expect(applied.advance({ ...base, revision: 4 })).toEqual({ nftables: [] });
    expect(applied.change.identities.size).toBe(0);
    expect(comparable(interpret(undefined, renderTable(applied.table)))).toEqual(
      comparable(interpret(undefined, renderTable(buildTable(base)))),
    );
  });

  it('names every connection a change can deny (the sweep lists no other)', () => {
    const PORTS = [1, 2, 7, 15, 30, 50, 64, 80, 99, 110, 120, 130, 140];
    let tightened = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rng = makeRng(seed);
      let state = randomHostState(rng, rng.int(1, 4));
      let applied = AppliedTable.build(state);
      for (let step = 0; step < 10; step++) {
        const next = nextState(rng, state);
        if (applied.advance(next) === undefined) {
          applied = AppliedTable.build(next);
          state = next;
          continue;
        }
        const change = applied.change;
        const [before, after] = [new FlowJudge(state), new FlowJudge(next)];
        for (const flow of flowsOf(state, PORTS)) {
          if (before.judge(flow) !== 'allow' || after.judge(flow) !== 'deny') continue;
          tightened++;
          // A connection's ct mark: its sender's identity when local, else its receiver's.
          const src = before.addressIdentity(flow.src);
          const mark = src.local ? src.identity : before.addressIdentity(flow.dst).identity;
          const covered =
            change.addresses.has(flow.src) ||
            change.addresses.has(flow.dst) ||
            change.identities.has(mark) ||
            (change.localSenders && change.identities.size > 0 && src.local);
          expect({ seed, step, flow, covered }).toEqual({ seed, step, flow, covered: true });
        }
        state = next;
      }
    }
    expect(tightened).toBeGreaterThan(50);
  });

  it("moves a local record's new identity into its slot: elements change, no chain or map", () => {
    // a's tag change on its own host: identity 256 → 258, whose sides differ in one entry.
    const side = (identity: number, direction: Direction, ports: number[]): SideState => ({
      identity,
      direction,
      cidr: [],
      peers: ports.map((p) => entry(257, 'tcp', p, p, 'allow')),
      any: [],
    });
    const of = (identity: number, revision: number, ports: number[]) =>
      hostStateOf(
        'h1',
        revision,
        [
          { name: 'a', identity, ips: ['10.0.0.1'], host: 'h1' },
          { name: 'b', identity: 257, ips: ['10.0.0.2'], host: 'h2' },
        ],
        [side(identity, 'egress', ports), side(identity, 'ingress', [22])],
        [
          { identity, other: 'deny', peers: [] },
          { identity: 257, other: 'deny', peers: [] },
        ],
      );
    const base = of(256, 1, [80, 443]);
    const next = of(258, 2, [80, 443, 8080]);
    const applied = AppliedTable.build(base);
    const doc = applied.advance(next)!;
    const kinds = doc.nftables
      .filter((c) => !('metainfo' in c))
      .map((c) => `${Object.keys(c)[0]} ${Object.keys(Object.values(c)[0] as object)[0]}`);
    // ifid, ifct, ipcache4: delete + add each; the added entry: one add.
    expect(kinds.sort()).toEqual([
      ...Array(4).fill('add element'),
      ...Array(3).fill('delete element'),
    ]);
    expect(comparable(interpret(full(base), doc))).toEqual(comparable(full(next)));
    // Connections of both identities are judged again, as when chains came and went.
    expect([...applied.change.identities].sort()).toEqual([256, 258]);
    expect(applied.change.localSenders).toBe(true);
  });

  it('reports the addresses whose identity changed', () => {
    const base = randomHostState(makeRng(3), 2);
    const applied = AppliedTable.build(base);
    const next = { ...base, revision: 2, ipcache: [{ ip: '10.9.2.1', identity: 402 }] };
    expect(commandCount(applied.advance(next)!)).toBe(2); // delete + add in ipcache4
    expect([...applied.change.addresses]).toEqual(['10.9.2.1']);
  });
});
