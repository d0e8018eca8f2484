/**
 * Agent.applyState without a kernel (a recording nft backend): an empty delta takes
 * only the revision, and never at the price of a state that was not applied.
 */
import { describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { fakeAgent, hostState, type RecordingNft } from '../../test/agent/support/fakes.js';

const state = (revision: number, ipcache: [string, number][] = []): HostState =>
  hostState(revision, { ipcache: ipcache.map(([ip, identity]) => ({ ip, identity })) });

const agent = fakeAgent;

const mentions = (nft: RecordingNft, ip: string) =>
  nft.docs.some((d) => JSON.stringify(d).includes(ip));

describe('Agent.applyState', () => {
  it('takes only the revision of an empty delta on top of the applied state', async () => {
    const { agent: a, nft } = agent();
    await a.applyState(state(1, [['10.0.0.1', 300]]));
    const docs = nft.docs.length;
    await a.applyState(state(2, [['10.0.0.1', 300]]), false);
    expect(a.state?.revision).toBe(2);
    expect(a.stats.unchanged).toBe(1);
    expect(nft.docs.length).toBe(docs);
    // A changed state after it is diffed against the applied model as usual.
    await a.applyState(state(3, [['10.0.0.2', 301]]));
    expect(mentions(nft, '10.0.0.2')).toBe(true);
    expect(a.stats.deltaApplies).toBe(1);
  });

  it('applies in full when the state before the empty delta was superseded unapplied', async () => {
    const { agent: a, nft } = agent();
    await a.applyState(state(1));
    // Revision 2 changes something; before it runs, revision 3 (an empty delta on top
    // of 2) replaces it. Revision 3 must carry 2's change into the kernel.
    const two = a.applyState(state(2, [['10.0.0.9', 300]]));
    const three = a.applyState(state(3, [['10.0.0.9', 300]]), false);
    await Promise.all([two, three]);
    expect(a.state?.revision).toBe(3);
    expect(mentions(nft, '10.0.0.9')).toBe(true);
  });

  it('applies in full when the state before the empty delta failed', async () => {
    const { agent: a, nft } = agent();
    await a.applyState(state(1));
    nft.failing = true;
    await expect(a.applyState(state(2, [['10.0.0.7', 300]]))).rejects.toThrow(/refused/);
    nft.failing = false;
    await a.applyState(state(3, [['10.0.0.7', 300]]), false);
    expect(a.state?.revision).toBe(3);
    expect(mentions(nft, '10.0.0.7')).toBe(true);
  });
});
