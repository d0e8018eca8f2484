/**
 * Where a FlowCollector's kernel events come from when the datapath is not the
 * nftables table (whose conntrack events and NFLOG samples the collector reads itself):
 * a source reports connections and samples to a sink, and keeps the deny totals. The
 * collector judges, buffers and ships, the same for every source.
 */
import type { DeniedCount } from '../../model/flow.js';
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
  /**
   * Every denied packet by deciding policy and rule, the defaults' as policy '' rule
   * `default` (the total less the rules'); only where the datapath counts per rule.
   */
  denied?: DeniedCount[];
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
  /** Per counter name (a deny rule's): the last reading and what earlier counters counted. */
  private readonly named = new Map<string, { last: number; base: number }>();

  /**
   * Takes a reading of (every denied packet, those sampled, and per deny rule's counter
   * when the datapath has them); undefined: none this time.
   */
  read(now: { total: number; sampled: number; rules?: ReadonlyMap<string, number> } | undefined): {
    sampled: number;
    unsampled: number;
    rules: Map<string, number>;
  } {
    if (now) {
      if (now.total < this.last.total || now.sampled < this.last.sampled)
        this.base = {
          total: this.base.total + this.last.total,
          sampled: this.base.sampled + this.last.sampled,
        };
      this.last = { total: now.total, sampled: now.sampled };
      if (now.rules) this.readNamed(now.rules);
    }
    const total = this.base.total + this.last.total;
    const sampled = this.base.sampled + this.last.sampled;
    const rules = new Map<string, number>();
    for (const [name, c] of this.named) rules.set(name, c.base + c.last);
    return { sampled, unsampled: total - sampled, rules };
  }

  /**
   * A counter read lower than before, or gone (its rule's last deny element went, or the
   * table was replaced), started again: what it counted stays counted.
   */
  private readNamed(now: ReadonlyMap<string, number>): void {
    for (const [name, c] of this.named)
      if (!now.has(name)) {
        c.base += c.last;
        c.last = 0;
      }
    for (const [name, packets] of now) {
      const c = this.named.get(name) ?? { last: 0, base: 0 };
      if (packets < c.last) c.base += c.last;
      c.last = packets;
      this.named.set(name, c);
    }
  }
}
