/**
 * The exact deny counts the agents report (docs/adr/0066-per-rule-deny-counters.md):
 * each nftables agent sends, with every flow batch, its kernel's denied packets per
 * deciding policy rule (and the defaults'), monotonic since the agent started. Here
 * they become increases — per host, so an agent that restarts (its counts start again
 * at 0) adds what it counts anew — for `vnp_flows_total`, and per-minute sums over the
 * flow retention's age for `GET /v1/flows/summary`. In memory: a manager that starts
 * takes each host's first report as its baseline for the window (when those packets
 * were denied is unknown) and as an increase for the metric. Bounded: per minute, one
 * sum per deny rule reaching a host (the configuration), minutes kept ≤ retention age.
 */
import type { DeniedCount } from '../../model/flow.js';

const MINUTE = 60_000;
const keyOf = (policy: string, rule: string): string => `${policy}\u0000${rule}`;

/** Denied packets of a window by deciding policy and rule. */
export interface DeniedSum {
  /** '' for the defaults. */
  policy: string;
  /** `egress[N]`, `ingress[N]`, or `default`. */
  rule: string;
  packets: number;
}

type DeltaListener = (policy: string, rule: string, packets: number) => void;

export class DenyCounts {
  /** Host → policy/rule key → packets as last reported. */
  private readonly last = new Map<string, Map<string, number>>();
  /** Start of a minute → policy/rule key → packets denied in it. */
  private readonly minutes = new Map<number, Map<string, number>>();
  private readonly listeners = new Set<DeltaListener>();

  constructor(
    private readonly now: () => number,
    /** Minutes older than this go (the flow retention's age). */
    private readonly ageMs: number,
  ) {}

  /** Whether `host` reports exact per-rule deny counts (its deny records are samples). */
  reports(host: string): boolean {
    return this.last.has(host);
  }

  /** Called with every increase; returns unsubscribe. */
  onDelta(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One host's report: its monotonic per-rule counts. */
  report(host: string, denied: readonly DeniedCount[]): void {
    const before = this.last.get(host);
    const now = new Map<string, number>();
    const minute = Math.floor(this.now() / MINUTE) * MINUTE;
    for (const d of denied) {
      const key = keyOf(d.policy, d.rule);
      now.set(key, d.packets);
      const was = before?.get(key) ?? 0;
      // Lower than before: the agent restarted and counts from 0 again.
      const delta = d.packets >= was ? d.packets - was : d.packets;
      if (delta === 0) continue;
      for (const l of this.listeners) l(d.policy, d.rule, delta);
      if (before) this.addTo(minute, key, delta);
    }
    this.last.set(host, now);
    this.prune(minute);
  }

  private addTo(minute: number, key: string, packets: number): void {
    let sums = this.minutes.get(minute);
    if (!sums) this.minutes.set(minute, (sums = new Map()));
    sums.set(key, (sums.get(key) ?? 0) + packets);
  }

  private prune(minute: number): void {
    for (const m of this.minutes.keys()) if (m < minute - this.ageMs) this.minutes.delete(m);
  }

  /**
   * Denied packets counted in the minutes that start in [since, until), by policy and
   * rule, most first.
   */
  window(since: number, until = Infinity): DeniedSum[] {
    const sums = new Map<string, number>();
    for (const [m, perKey] of this.minutes) {
      if (m + MINUTE <= since || m >= until) continue;
      for (const [key, packets] of perKey) sums.set(key, (sums.get(key) ?? 0) + packets);
    }
    return [...sums]
      .map(([key, packets]) => {
        const [policy, rule] = key.split('\u0000') as [string, string];
        return { policy, rule, packets };
      })
      .sort(
        (a, b) =>
          b.packets - a.packets || (keyOf(a.policy, a.rule) < keyOf(b.policy, b.rule) ? -1 : 1),
      );
  }
}
