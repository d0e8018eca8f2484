/**
 * The seam between the agent's manager-facing half (serialised states, checks,
 * counters) and what enforces them on this host. Two implementations: the Linux
 * kernel (nftables + VXLAN-GBP links + conntrack, src/agent/nft-datapath.ts) and
 * Open vSwitch (one bridge programmed by OpenFlow, src/agent/ovs/). Both enforce the
 * same HostState with the same verdicts and steering; the conformance suite both run
 * is test/e2e/support/datapath-conformance.ts (conformance-nftables and
 * conformance-ovs privileged tests), beside the mixed random-model differential
 * (random-kernel.privileged.test.ts).
 *
 * The agent calls, per state, in this order: `applyPolicy` (atomic: the whole
 * decision program moves to the new state, or nothing changes), then `reconcileLinks`
 * (best effort, never blocks policy), then `sweep` (cuts established connections the
 * new state denies). Nothing is removed when the manager or the agent goes away
 * (fail-static): only `removePolicy` removes the program.
 */
import type { HostState } from '../model/host-state.js';

/** The kind of PEP a datapath is, as reported to the manager and shown by `vnp status`. */
export type DatapathKind = 'nftables' | 'ovs';

/** What one `applyPolicy` did. */
export interface PolicyApplied {
  /** The whole program was replaced (first state, structural change, refused delta). */
  whole: boolean;
  /** Anything was written at all (false: the state implied no change of the program). */
  changed: boolean;
}

/** What `reconcileLinks` did. */
export interface LinksReconciled {
  /** Link operations that failed; they are retried with the next state. */
  failures: number;
}

/** What `sweep` did. */
export interface Swept {
  /** Established connections deleted because the new state denies them. */
  killedFlows: number;
  /** Steered connections forgotten because their steer class changed meaning. */
  resteeredFlows: number;
}

/** One host's enforcement of HostStates. Calls are serialised by the agent. */
export interface Datapath {
  readonly kind: DatapathKind;
  /**
   * Finds a program left by a previous run and keeps it enforcing until the first
   * `applyPolicy` replaces it atomically; returns a description of it, or undefined.
   */
  adopt(): Promise<string | undefined>;
  /** Moves the decision program to `state` (already checked), all or nothing. */
  applyPolicy(state: HostState): Promise<PolicyApplied>;
  /** Plumbs `state`'s records and overlay; failures are counted and logged, not thrown. */
  reconcileLinks(state: HostState): Promise<LinksReconciled>;
  /** After `applyPolicy(state)`: deletes connection state the new program denies. */
  sweep(state: HostState, applied: PolicyApplied): Promise<Swept>;
  /** Removes the program (never done on disconnect: fail-static). */
  removePolicy(): Promise<void>;
  /**
   * Whether the program the last `applyPolicy` wrote is still in place. False means
   * the enforcer lost it (ovs-vswitchd restarted: OpenFlow flows are not kept) and
   * the next `applyPolicy` rewrites it whole. Absent: the program cannot be lost
   * behind the agent's back (nftables tables live as long as the kernel).
   */
  intact?(): Promise<boolean>;
  /** Ends the processes the datapath keeps (the program stays: fail-static). */
  close?(): void;
}
