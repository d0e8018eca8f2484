/**
 * Folding the watch stream (docs/protocol.md) into host states, apart from any
 * transport: a snapshot (or a bare HostState from a manager that predates the
 * envelope) replaces the state, a delta whose `from` is the committed revision is
 * folded onto it, a heartbeat changes nothing. A delta that does not fit is a gap:
 * the fold asks for a resync (the next watch without `since`, hence a snapshot).
 * Pure: no I/O, no clock.
 *
 * Invariant: `state` moves only through {@link HostFold.commit}, with a state
 * {@link HostFold.next} returned — after its apply succeeded.
 */
import {
  applyHostDelta,
  isEmptyDelta,
  type DeltaMessage,
  type HostMessage,
} from '../../model/host-delta.js';
import type { HostState } from '../../model/host-state.js';

/** What a watch carries: the envelope, or bare HostStates from a manager that predates it. */
export type WatchMessage = HostMessage | HostState;

/** Counters of the fold. */
export interface FoldStats {
  snapshots: number;
  deltas: number;
  heartbeats: number;
  resyncs: number;
}

/** A state a message leads to; `changed` is false when only the revision moved. */
export interface FoldStep {
  state: HostState;
  changed: boolean;
}

/**
 * The committed state of a follower and what the next message makes of it.
 *
 * @example
 *   const fold = new HostFold();
 *   const step = fold.next(JSON.parse(line)); // undefined for a heartbeat
 *   if (step) { await apply(step.state, step.changed); fold.commit(step.state); }
 */
export class HostFold {
  state: HostState | undefined;
  /** The next watch must start without `since` (a gap, or a manager refusing it). */
  resync = false;
  constructor(
    private readonly foldDelta: (
      state: HostState,
      delta: DeltaMessage,
    ) => HostState = applyHostDelta,
    readonly stats: FoldStats = { snapshots: 0, deltas: 0, heartbeats: 0, resyncs: 0 },
  ) {}

  /**
   * The state `message` leads to, or undefined for a heartbeat. Throws for a delta
   * that does not apply to the committed state (and asks for a resync) and for an
   * unknown message type.
   */
  next(message: WatchMessage): FoldStep | undefined {
    if (!('type' in message)) {
      // A manager of an older release: every line is the whole state.
      this.stats.snapshots++;
      return { state: message, changed: true };
    }
    if (message.type === 'heartbeat') {
      this.stats.heartbeats++;
      return undefined;
    }
    if (message.type === 'snapshot') {
      this.stats.snapshots++;
      return { state: message.state, changed: true };
    }
    if (message.type !== 'delta')
      throw new Error(
        `unknown watch message type ${JSON.stringify((message as { type: unknown }).type)}`,
      );
    if (!this.state || this.state.revision !== message.from) {
      this.resync = true;
      this.stats.resyncs++;
      throw new Error(
        `delta from revision ${message.from} does not apply to ${this.state?.revision ?? 'nothing'}: resyncing`,
      );
    }
    this.stats.deltas++;
    let state: HostState;
    try {
      state = this.foldDelta(this.state, message);
    } catch (err) {
      // A delta that does not fold (a side patch for a side not held): the next watch
      // starts from a snapshot, not from this revision again.
      this.resync = true;
      this.stats.resyncs++;
      throw err;
    }
    return { state, changed: !isEmptyDelta(message) };
  }

  /** `state` is applied: the fold continues from it. */
  commit(state: HostState): void {
    this.state = state;
  }

  /** `since` for the next watch (undefined: start from a snapshot); clears a resync. */
  since(): number | undefined {
    const since = this.state && !this.resync ? this.state.revision : undefined;
    this.resync = false;
    return since;
  }
}
