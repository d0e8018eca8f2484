/**
 * The renderer against the real nft: every random state loads, and applying a
 * delta on top of the previous table yields exactly the table a full render of
 * the new state yields. Needs root and `ip netns`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeRng } from '../../../test/support/rng.js';
import { mutateHostState, randomHostState } from '../../../test/e2e/support/random-state.js';
import { sh } from '../../../test/e2e/support/topology.js';
import { describePrivileged } from '../../../test/e2e/support/describe-privileged.js';
import { normalizeListing } from '../../../test/e2e/support/nft-listing.js';
import { makeExec } from '../exec.js';
import { KernelNft } from './apply.js';
import { renderDelta, renderRuleset } from './render.js';

describePrivileged('renderer on the real nft', {}, () => {
  const ns = `vnpt-${randomBytes(3).toString('hex')}-nft`;
  const nft = new KernelNft(makeExec(ns));

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
  });

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
});
