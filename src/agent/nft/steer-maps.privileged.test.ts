/**
 * Steering chains and maps against the real nft: a state with routes (active, inert
 * and local-via classes) loads, and route changes applied as a delta give exactly the
 * table a full render gives. Needs root and `ip netns`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { routes, steerState } from '../../../test/e2e/support/steer-state.js';
import { sh } from '../../../test/e2e/support/topology.js';
import { describePrivileged } from '../../../test/e2e/support/describe-privileged.js';
import { normalizeListing } from '../../../test/e2e/support/nft-listing.js';
import { makeExec } from '../exec.js';
import { vethName } from '../names.js';
import { KernelNft } from './apply.js';
import { renderDelta, renderRuleset } from './render.js';

describePrivileged('steering on the real nft', { prefix: 'vnps' }, () => {
  const ns = `vnps-${randomBytes(3).toString('hex')}-nft`;
  const nft = new KernelNft(makeExec(ns));

  beforeAll(() => {
    sh(['ip', 'netns', 'add', ns]);
  });
  afterAll(() => {
    sh(['ip', 'netns', 'del', ns]);
  });

  it('loads, and route changes by delta equal a full render', async () => {
    const a = steerState(routes, 'h1', 1);
    await nft.apply(renderRuleset(a));
    const listed = JSON.stringify(await nft.list());
    // st-S: src's identity 256, named by its slot (local-slots.ts).
    for (const name of ['pre-steer', 'transit', `st-${vethName('src')}`, 'steer-2', 'steer-4'])
      expect(listed).toContain(`"name":"${name}"`);
    const steps = [
      // A peer entry changes class, the any entries go, an inert cidr entry turns active.
      steerState(
        {
          cidr: [{ ...routes.cidr[0]!, steer: 2, ports: [53, 54] }],
          peers: [{ ...routes.peers[0]!, steer: 4 }, routes.peers[1]!],
          any: [],
        },
        'h1',
        2,
      ),
      steerState({ ...routes, peers: [] }, 'h1', 3),
    ];
    let prev = a;
    for (const next of steps) {
      const delta = renderDelta(prev, next);
      expect(delta.nftables.some((c) => 'delete' in c && 'table' in (c.delete as object))).toBe(
        false,
      );
      await nft.apply(delta);
      const viaDelta = normalizeListing(await nft.list());
      await nft.flush();
      await nft.apply(renderRuleset(next));
      expect(viaDelta).toEqual(normalizeListing(await nft.list()));
      prev = next;
    }
    await nft.flush();
  });
});
