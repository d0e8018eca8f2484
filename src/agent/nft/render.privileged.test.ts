/**
 * The renderer against the real nft: every random state loads, and applying a
 * delta on top of the previous table yields exactly the table a full render of
 * the new state yields. Needs root and `ip netns`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeRng } from '../../../test/support/rng.js';
import {
  mutateHostState,
  randomHostState,
  retagLocal,
} from '../../../test/e2e/support/random-state.js';
import { sh } from '../../../test/e2e/support/topology.js';
import { describePrivileged } from '../../../test/e2e/support/describe-privileged.js';
import { normalizeListing } from '../../../test/e2e/support/nft-listing.js';
import { makeExec } from '../exec.js';
import { vethName } from '../names.js';
import { KernelNft } from './apply.js';
import type { PeerEntry } from '../../model/host-state.js';
import { hostStateOf, peerEntry } from '../../../test/e2e/support/host-states.js';
import { AppliedTable } from './applied-table.js';
import { renderDelta, renderRuleset, renderTable } from './render.js';

describePrivileged('renderer on the real nft', {}, () => {
  const ns = `vnpt-${randomBytes(3).toString('hex')}-nft`;
  const nft = new KernelNft(makeExec(ns));
  /** The elements of map `name` as the kernel lists them (key fields). */
  const listMap = async (name: string): Promise<unknown[][]> => {
    const r = await makeExec(ns)(['nft', '-j', 'list', 'map', 'inet', 'vnp', name]);
    const doc = JSON.parse(r.stdout) as {
      nftables: { map?: { elem?: [{ concat: unknown[] }][] } }[];
    };
    const elems = doc.nftables.find((c) => c.map)?.map?.elem ?? [];
    return elems.map(([key]) => key.concat);
  };

  beforeAll(() => {
    sh(['ip', 'netns', 'add', ns]);
  });
  afterAll(() => {
    sh(['ip', 'netns', 'del', ns]);
  });

  it('delta on top of the previous table equals the full table of the new state', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = makeRng(seed);
      let prev = randomHostState(rng, rng.int(1, 4));
      await nft.apply(renderRuleset(prev));
      for (let step = 0; step < 3; step++) {
        const next = mutateHostState(rng, prev);
        await nft.apply(renderDelta(prev, next));
        const viaDelta = normalizeListing(await nft.list());
        await nft.flush();
        await nft.apply(renderRuleset(next));
        const viaFull = normalizeListing(await nft.list());
        expect(viaFull.length).toBeGreaterThan(20);
        expect({ seed, step, table: viaDelta }).toEqual({ seed, step, table: viaFull });
        prev = next;
      }
    }
    // 24 loads, listings and flushes: ~13 s idle, near 30 under load.
  }, 120_000);

  it("the agent's delta of a local record's tag change equals the full table of the new state", async () => {
    // The record keeps its slot (local-slots.ts): its identity's chains and maps stay,
    // their elements change in the same transaction as the ipcache and interface maps.
    for (let seed = 1; seed <= 6; seed++) {
      const rng = makeRng(seed);
      let state = randomHostState(rng, rng.int(1, 4));
      const applied = AppliedTable.build(state);
      await nft.apply(renderTable(applied.table));
      for (let step = 0; step < 3; step++) {
        const next = step === 1 ? mutateHostState(rng, state) : retagLocal(rng, state);
        const doc = applied.advance(next);
        await nft.apply(doc ?? renderRuleset(next));
        if (!doc) break;
        const viaDelta = normalizeListing(await nft.list());
        await nft.apply(renderRuleset(next));
        expect({ seed, step, table: viaDelta }).toEqual({
          seed,
          step,
          table: normalizeListing(await nft.list()),
        });
        state = next;
      }
    }
  }, 120_000);

  it('deletes and changes single-port and single-address elements by delta', async () => {
    const base = randomHostState(makeRng(5), 2);
    const side = base.sides[0]!;
    side.peers = [
      {
        peer: 400,
        proto: 'tcp',
        ports: [80, 80],
        verdict: 'allow',
        policy: 'p',
        rule: 'egress[0]',
      },
      {
        peer: 401,
        proto: 'udp',
        ports: [53, 53],
        verdict: 'deny',
        policy: 'p',
        rule: 'egress[1]',
      },
    ];
    side.cidr = [
      {
        range: '192.0.2.7',
        proto: 'tcp',
        ports: [22, 22],
        verdict: 'deny',
        policy: 'p',
        rule: 'egress[2]',
      },
    ];
    side.any = [{ proto: 'sctp', ports: [9, 9], verdict: 'log', policy: 'p', rule: 'egress[3]' }];
    const next = structuredClone(base);
    const ns2 = next.sides[0]!;
    ns2.peers = [{ ...ns2.peers[0]!, verdict: 'deny' }];
    ns2.cidr = [];
    ns2.any = [];
    next.ipcache = next.ipcache.slice(1);
    await nft.apply(renderRuleset(base));
    const delta = renderDelta(base, next);
    expect(delta.nftables.some((c) => 'delete' in c && 'table' in (c.delete as object))).toBe(
      false,
    );
    await nft.apply(delta); // throws if the kernel refuses
    const viaDelta = normalizeListing(await nft.list());
    await nft.apply(renderRuleset(next));
    expect(viaDelta).toEqual(normalizeListing(await nft.list()));
  });

  it('an empty delta changes nothing and flush removes the table', async () => {
    const s = randomHostState(makeRng(99), 2);
    await nft.apply(renderRuleset(s));
    const before = normalizeListing(await nft.list());
    await nft.apply(renderDelta(s, s));
    expect(normalizeListing(await nft.list())).toEqual(before);
    await nft.flush();
    expect(await nft.list()).toBeUndefined();
  });
  it('a map of thousands of elements holds exactly their keys, and a delta deletes them all', async () => {
    // nft 1.0.6 garbled the first element of every netlink message after the first of
    // one command (ADR 0043); 3,000 entries span three messages' worth of elements, in
    // the interval map (port ranges) and the hash map (single ports) alike.
    const peers = Array.from({ length: 30 }, (_, i) => 1000 + i);
    const entries = peers.flatMap((peer) =>
      Array.from({ length: 100 }, (_, k) =>
        peer % 2 === 0
          ? peerEntry(peer, 'tcp', 20_000 + 2 * k, 20_000 + 2 * k + 1, 'allow')
          : peerEntry(peer, 'tcp', 20_000 + k, 20_000 + k, 'allow'),
      ),
    );
    const records = [{ name: 'a', identity: 256, ips: ['10.0.0.1'], host: 'h' }];
    const defaults = [{ identity: 256, other: 'deny' as const, peers: [] }];
    const side = (peerEntries: PeerEntry[]) => [
      { identity: 256, direction: 'egress' as const, cidr: [], peers: peerEntries, any: [] },
    ];
    const big = hostStateOf('h', 1, records, side(entries), defaults);
    const applied = AppliedTable.build(big);
    await nft.apply(renderTable(applied.table));
    const keys = [
      ...(await listMap(`eg-${vethName('a')}-p`)),
      ...(await listMap(`eg-${vethName('a')}-pe`)),
    ].map(([mark, , port]) => `${mark}/${JSON.stringify(port)}`);
    const want = entries.map(
      ({ peer, ports: [lo, hi] }) =>
        `${peer}/${JSON.stringify(lo === hi ? lo : { range: [lo, hi] })}`,
    );
    expect(keys.sort()).toEqual(want.sort());
    await nft.apply(applied.advance(hostStateOf('h', 2, records, side([]), defaults))!);
    expect(await listMap(`eg-${vethName('a')}-p`)).toEqual([]);
    expect(await listMap(`eg-${vethName('a')}-pe`)).toEqual([]);
  });
});
