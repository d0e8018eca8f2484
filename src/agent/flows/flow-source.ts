/**
 * Where a FlowCollector's kernel events come from when the datapath is not the
 * nftables table (whose conntrack events and NFLOG samples the collector reads itself):
 * a source reports connections and samples to a sink, and keeps the deny totals. The
 * collector judges, buffers and ships, the same for every source.
 */
import type { FlowTuple } from './flow-builder.js';

/** What a source reports (the collector's side). */
export interface FlowSink {
  /** The datapath allowed a new connection; `key` identifies it until it ends. */
  opened(key: string, t: FlowTuple): void;
  /** An allowed connection ended (with both directions' counters when the datapath keeps them). */
  ended(key: string, t: FlowTuple, counters?: { packets: number; bytes: number }): void;
  /** A denied packet, sampled. */
  denied(t: FlowTuple): void;
  /** A copy of a packet a `log` verdict allowed. */
  logged(t: FlowTuple): void;
}

/** Monotonic totals of denied packets since the agent started. */
export interface DenyTotals {
  /** Handed to the agent. */
  sampled: number;
  /** Kept back by the rate limit (counted, not sampled). */
  unsampled: number;
}

/** A datapath's flow events. */
export interface FlowSource {
  start(sink: FlowSink): Promise<void>;
  /** Called every shipping period before the counters are read (polling sources read here). */
  poll(): Promise<void>;
  totals(): Promise<DenyTotals>;
  stop(): void;
}

/**
 * Totals kept monotonic across counters that restart at 0 (a replaced nftables table,
 * a restarted ovs-vswitchd): what earlier counters counted stays counted.
 */
export class MonotonicTotals {
  private last = { total: 0, sampled: 0 };
  private base = { total: 0, sampled: 0 };

  /** Takes a reading of (every denied packet, those sampled); undefined: none this time. */
  read(now: { total: number; sampled: number } | undefined): DenyTotals {
    if (now) {
      if (now.total < this.last.total || now.sampled < this.last.sampled)
        this.base = {
          total: this.base.total + this.last.total,
          sampled: this.base.sampled + this.last.sampled,
        };
      this.last = now;
    }
    const total = this.base.total + this.last.total;
    const sampled = this.base.sampled + this.last.sampled;
    return { sampled, unsampled: total - sampled };
  }
}
