/**
 * The PEP agent's enforcing half: applies HostStates, one at a time, through a
 * {@link Datapath} (the Linux kernel's nftables by default, or an Open vSwitch bridge).
 * Fail-static: nothing is ever removed because the manager is gone; the last applied
 * state stays enforced until a new one arrives.
 */
import type { HostState } from '../model/host-state.js';
import { checkHostState } from '../model/host-state-check.js';
import { checkInt } from '../model/validate-primitives.js';
import type { Datapath, PolicyApplied } from './datapath.js';
import { NftDatapath, type NftDatapathOptions } from './nft-datapath.js';

/** Agent settings. */
export interface AgentOptions extends Omit<NftDatapathOptions, 'log'> {
  host: string;
  /** This host's underlay address: VXLAN source, and what the manager is told. */
  underlayIp: string;
  /**
   * What enforces the states (default: an {@link NftDatapath} built from the nft,
   * links, exec, defaultVni, mtu and killDeniedFlows options, which it alone reads).
   */
  datapath?: Datapath;
  log?: (msg: string) => void;
}

/** Counters and timings of the agent. */
export interface AgentStats {
  applies: number;
  fullApplies: number;
  deltaApplies: number;
  failures: number;
  killedFlows: number;
  /** Steered connections whose steer class changed meaning, deleted to be decided again. */
  resteeredFlows: number;
  /** Link operations that failed (records not plumbed, …); the policy was applied regardless. */
  linkFailures: number;
  /**
   * States skipped because they equal the applied one: resyncs, and revisions whose
   * delta changed nothing on this host (most revisions, on most hosts).
   */
  unchanged: number;
  /** Sweeps that failed (logged; the policy they followed stays applied). */
  sweepFailures: number;
  lastRevision?: number;
  /**
   * Milliseconds of the last applyState: links, policy (the datapath's program), total
   * (policy and links: what the next state waits for), and of the last sweep (which
   * runs after it, see {@link Agent.swept}).
   */
  lastLinksMs?: number;
  lastPolicyMs?: number;
  lastApplyMs?: number;
  lastSweepMs?: number;
  /** True when a program from a previous run was found and kept enforcing. */
  adopted: boolean;
  /** Times `verify` found the program lost (ovs-vswitchd restarted) and rewrote it. */
  reprograms: number;
}

/**
 * Applies HostStates through its datapath, serialised (one at a time, the newest wins).
 *
 * @example
 *   const agent = new Agent({ host: 'h1', underlayIp: '192.0.2.1' });
 *   await agent.start();
 *   await agent.applyState(state);
 */
export class Agent {
  readonly stats: AgentStats = {
    applies: 0,
    fullApplies: 0,
    deltaApplies: 0,
    failures: 0,
    killedFlows: 0,
    resteeredFlows: 0,
    linkFailures: 0,
    unchanged: 0,
    sweepFailures: 0,
    adopted: false,
    reprograms: 0,
  };
  /** What enforces the states. */
  readonly datapath: Datapath;
  private current: HostState | undefined;
  private queue: Promise<void> = Promise.resolve();
  private pending: HostState | undefined;
  /** The state of the previous applyState call (applied, skipped or failed). */
  private offered: HostState | undefined;
  /** The newest applied state whose sweep has not started, with what its applies did. */
  private sweepDue: { state: HostState; applied: PolicyApplied } | undefined;
  /** The sweeps running (one at a time), until none is due. */
  private sweeping: Promise<void> | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.datapath = opts.datapath ?? new NftDatapath(opts);
  }

  /** The last state whose policy the datapath enforces. */
  get state(): HostState | undefined {
    return this.current;
  }

  /**
   * Adopts a program left by a previous run: it keeps enforcing (no flush, no gap)
   * until the first state replaces it atomically.
   */
  async start(): Promise<void> {
    const found = await this.datapath.adopt();
    this.stats.adopted = found !== undefined;
    if (found) this.opts.log?.(`adopted existing ${found}; enforcing it until the first state`);
  }

  /**
   * Moves the datapath's program to the state (a delta when the previous state is
   * known, else a full replace; a refused delta is retried as a full replace), then
   * reconciles links. Calls are serialised; a state superseded while waiting is
   * skipped, and so is a state equal to the applied one. `state` (the getter) changes
   * once the policy is applied.
   *
   * Resolves once the program enforces the state for every new packet. Deleting the
   * connection state of established flows it denies (the sweep) follows in the
   * background, so the next state never waits for it: {@link swept} waits for it.
   *
   * `changed: false` says `state` equals the state of the previous call but for its
   * revision (an empty delta: the manager moved on without touching this host). When
   * that previous state is the applied one, only the revision is taken: no table is
   * built, nothing is diffed. Otherwise (it was superseded, or it failed) the state is
   * applied in full as usual.
   *
   * @example await agent.applyState(next, delta.sides !== undefined || …)
   */
  applyState(state: HostState, changed = true): Promise<void> {
    const base = this.offered;
    this.offered = state;
    this.pending = state;
    const run = this.queue.then(async () => {
      if (this.pending !== state) return;
      this.pending = undefined;
      const cur = this.current;
      if (!changed && cur !== undefined && cur === base) {
        // Only the revision differs from the checked state that is applied.
        checkInt(state.revision, 'state.revision', 0, Number.MAX_SAFE_INTEGER);
        this.current = state;
        this.stats.lastRevision = state.revision;
        this.stats.unchanged++;
        return;
      }
      // A resync delivers the state already applied: nothing to do. States of different
      // revisions never serialise alike, so only a same-revision state is serialised.
      if (cur?.revision === state.revision && JSON.stringify(cur) === JSON.stringify(state)) {
        this.stats.unchanged++;
        return;
      }
      await this.applyNow(state);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Policy first: the program is what a tag change waits for, and it does not need
   * the links (interface names match as strings; a record whose port is not there
   * yet simply has no traffic). Then links; the connection sweep is started, not
   * waited for.
   */
  private async applyNow(state: HostState): Promise<void> {
    const t0 = performance.now();
    try {
      // Nothing from the wire reaches a command unchecked (docs/security.md, "Command
      // construction"): a bad state is refused whole and the last one stays enforced.
      checkHostState(state, 'state', this.current);
      const applied = await this.datapath.applyPolicy(state);
      if (applied.whole) this.stats.fullApplies++;
      else this.stats.deltaApplies++;
      const t1 = performance.now();
      this.current = state;
      const links = await this.datapath.reconcileLinks(state);
      this.stats.linkFailures += links.failures;
      const t2 = performance.now();
      this.sweepAfter(state, applied);
      this.stats.applies++;
      this.stats.lastRevision = state.revision;
      this.stats.lastPolicyMs = t1 - t0;
      this.stats.lastLinksMs = t2 - t1;
      this.stats.lastApplyMs = t2 - t0;
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
  }

  /**
   * Waits until the sweeps of every state applied so far have run: the established
   * connections those states deny are gone.
   *
   * @example await agent.applyState(quarantined); await agent.swept(); // the connection is cut
   */
  swept(): Promise<void> {
    return this.sweeping ?? Promise.resolve();
  }

  /**
   * The sweep after an applied state, behind the sweeps already running. The kernel
   * enforces the state from its commit on, so neither the next state nor its
   * acknowledgement waits for a sweep (which lists connections: with an address whose
   * identity changed, the whole table, docs/adr/0050-sweep-behind-the-apply.md).
   * States applied while a sweep runs are swept once, after it, judged by the newest
   * state; the datapath keeps what each of their programs changed until then.
   */
  private sweepAfter(state: HostState, applied: PolicyApplied): void {
    const due = this.sweepDue?.applied;
    this.sweepDue = {
      state,
      applied: due
        ? { whole: due.whole || applied.whole, changed: due.changed || applied.changed }
        : applied,
    };
    this.sweeping ??= this.runSweeps();
  }

  private async runSweeps(): Promise<void> {
    for (let due = this.sweepDue; due; due = this.sweepDue) {
      this.sweepDue = undefined;
      const t0 = performance.now();
      try {
        const swept = await this.datapath.sweep(due.state, due.applied);
        this.stats.killedFlows += swept.killedFlows;
        this.stats.resteeredFlows += swept.resteeredFlows;
      } catch (err) {
        this.stats.sweepFailures++;
        this.opts.log?.(`sweep after revision ${due.state.revision}: ${(err as Error).message}`);
      }
      this.stats.lastSweepMs = performance.now() - t0;
    }
    this.sweeping = undefined;
  }

  /**
   * Checks that the datapath still enforces the applied state and rewrites it whole
   * when not (an ovs-vswitchd restart empties the bridge: the flows are not in OVSDB).
   * Serialised with the states; returns whether the program had to be rewritten.
   *
   * @example setInterval(() => void agent.verify(), 5000)
   */
  verify(): Promise<boolean> {
    const run = this.queue.then(async () => {
      const cur = this.current;
      if (cur === undefined || !this.datapath.intact || (await this.datapath.intact()))
        return false;
      this.opts.log?.(
        `the ${this.datapath.kind} program was lost; rewriting revision ${cur.revision}`,
      );
      this.stats.reprograms++;
      await this.applyNow(cur);
      return true;
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Removes the datapath's program (not done on disconnect: fail-static). */
  async removePolicy(): Promise<void> {
    // A sweep judges by a policy: none is due once the policy is gone.
    this.sweepDue = undefined;
    await this.swept();
    await this.datapath.removePolicy();
    this.current = undefined;
  }
}
