/**
 * Agent.applyState without a kernel (a recording nft backend): an empty delta takes
 * only the revision, and never at the price of a state that was not applied; the
 * sweep runs behind the applies.
 */
import { describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { fakeAgent, hostState, type RecordingNft } from '../../test/agent/support/fakes.js';
import { Agent } from './agent.js';
import type { Datapath, PolicyApplied, Swept } from './datapath.js';

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

/** A datapath whose sweeps wait until released, recording what each was given. */
class SlowSweeps implements Datapath {
  readonly kind = 'nftables' as const;
  readonly sweeps: { revision: number; applied: PolicyApplied }[] = [];
  private release: (() => void)[] = [];
  failing = false;
  adopt = () => Promise.resolve(undefined);
  applyPolicy = (): Promise<PolicyApplied> =>
    Promise.resolve({ whole: this.sweeps.length === 0, changed: true });
  reconcileLinks = () => Promise.resolve({ failures: 0 });
  removePolicy = () => Promise.resolve();
  async sweep(state: HostState, applied: PolicyApplied): Promise<Swept> {
    this.sweeps.push({ revision: state.revision, applied });
    await new Promise<void>((resolve) => this.release.push(resolve));
    if (this.failing) throw new Error('conntrack: gone');
    return { killedFlows: 1, resteeredFlows: 0 };
  }
  /** Lets the running sweep finish. */
  finishOne(): void {
    this.release.shift()?.();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Agent sweeps', () => {
  it('resolves applyState before its sweep; later states sweep once, judged by the newest', async () => {
    const datapath = new SlowSweeps();
    const a = new Agent({ host: 'h1', underlayIp: '192.0.2.1', datapath });
    await a.applyState(state(1));
    // The sweep of 1 runs; 2 and 3 are applied meanwhile, not held behind it.
    await a.applyState(state(2, [['10.0.0.1', 300]]));
    await a.applyState(state(3, [['10.0.0.2', 301]]));
    expect(a.state?.revision).toBe(3);
    expect(datapath.sweeps.map((s) => s.revision)).toEqual([1]);
    let swept = false;
    const done = a.swept().then(() => (swept = true));
    datapath.finishOne();
    await tick();
    // One sweep for 2 and 3 together; the first state was whole, so is nothing after it.
    expect(datapath.sweeps.map((s) => s.revision)).toEqual([1, 3]);
    expect(datapath.sweeps[1]!.applied).toEqual({ whole: false, changed: true });
    expect(swept).toBe(false);
    datapath.finishOne();
    await done;
    expect(a.stats.killedFlows).toBe(2);
  });

  it('counts and logs a failed sweep; the state stays applied', async () => {
    const datapath = new SlowSweeps();
    const logs: string[] = [];
    const a = new Agent({
      host: 'h1',
      underlayIp: '192.0.2.1',
      datapath,
      log: (m) => logs.push(m),
    });
    datapath.failing = true;
    await a.applyState(state(1));
    datapath.finishOne();
    await a.swept();
    expect(a.stats).toMatchObject({ sweepFailures: 1, failures: 0, lastRevision: 1 });
    expect(logs.join('\n')).toMatch(/sweep after revision 1: conntrack: gone/);
  });
});
