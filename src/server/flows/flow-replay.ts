/**
 * Impact against real traffic (issue #12, `--against-flows WINDOW`): the connections
 * the kernels reported in a window, each distinct one judged by the model before and
 * after a change (the snapshot of the impact preview), grouped by what would flip and
 * which rule would decide — "412 flows from web-1 → db-1 tcp/5432 would be denied by
 * lockdown/ingress[0]". Audit-mode rules that match observed traffic are listed with
 * what they would have done.
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { CheckResult, SideResult } from '../../model/check.js';
import type { FlowStore, FlowTuple } from '../../store/index.js';
import type { ImpactSnapshot } from '../impact-preview.js';

/** One group of observed connections whose verdict the change flips. */
export interface ReplayChange {
  src: string;
  dst: string;
  protocol: FlowTuple['protocol'];
  port: number;
  from: 'allow' | 'deny';
  to: 'allow' | 'deny';
  /** Observed connections in the window. */
  count: number;
  /** The deciding side and rule after the change (`ingress lockdown/ingress[0]`, `egress default`). */
  decidedBy: string;
}

/** Observed connections an audit-mode rule (after the change) would have judged otherwise. */
export interface ReplayAudit {
  src: string;
  dst: string;
  protocol: FlowTuple['protocol'];
  port: number;
  verdict: 'allow' | 'deny';
  wouldBe: 'allow' | 'deny';
  rules: string[];
  count: number;
}

export interface FlowReplay {
  since: string;
  /** Observed connections replayed, and distinct ones. */
  flows: number;
  distinct: number;
  /** Connections whose verdict flips, by group, the largest first (at most 1,000 groups). */
  changed: ReplayChange[];
  changedFlows: number;
  audit: ReplayAudit[];
  ms: number;
}

const MAX_GROUPS = 1000;
const SLICE_MS = 5;

function decider(r: CheckResult): string {
  const side = (name: string, result: SideResult) =>
    result.policy !== undefined && result.rule
      ? `${name} ${result.policy}/${result.rule.rule}`
      : `${name} default`;
  if (r.egress.evaluated && r.egress.verdict === r.verdict) return side('egress', r.egress);
  return side('ingress', r.ingress);
}

/** The name of an end: its record if it has one, else its address. */
const endName = (e: CheckResult['src']): string => e.record ?? e.address ?? String(e.identity);

/** What a replay gathers, connection by connection. */
class ReplayTally {
  flows = 0;
  changedFlows = 0;
  readonly changed = new Map<string, ReplayChange>();
  readonly audit = new Map<string, ReplayAudit>();

  /** Count one observed connection judged before and after the change. */
  add(tuple: FlowTuple, before: CheckResult, after: CheckResult): void {
    const src = endName(after.src);
    const dst = endName(after.dst);
    if (before.verdict !== after.verdict) this.addChange(tuple, src, dst, before, after);
    for (const [name, side] of [
      ['egress', after.egress],
      ['ingress', after.ingress],
    ] as const) {
      if (!side.audit || side.audit.wouldBe === side.verdict) continue;
      const rules = side.audit.rules.map((r) => `${r.policy}/${r.rule}`);
      const key = JSON.stringify([src, dst, tuple.protocol, tuple.port, name, rules]);
      const a = this.audit.get(key);
      if (a) a.count += tuple.count;
      else
        this.audit.set(key, {
          src,
          dst,
          protocol: tuple.protocol,
          port: tuple.port,
          verdict: side.verdict,
          wouldBe: side.audit.wouldBe,
          rules,
          count: tuple.count,
        });
    }
  }

  private addChange(
    tuple: FlowTuple,
    src: string,
    dst: string,
    before: CheckResult,
    after: CheckResult,
  ): void {
    this.changedFlows += tuple.count;
    const decidedBy = decider(after);
    const key = JSON.stringify([src, dst, tuple.protocol, tuple.port, after.verdict, decidedBy]);
    const g = this.changed.get(key);
    if (g) g.count += tuple.count;
    else
      this.changed.set(key, {
        src,
        dst,
        protocol: tuple.protocol,
        port: tuple.port,
        from: before.verdict,
        to: after.verdict,
        count: tuple.count,
        decidedBy,
      });
  }
}

/** Both snapshots' verdicts on one observed connection; undefined when either cannot say. */
function judge(snap: ImpactSnapshot, tuple: FlowTuple): [CheckResult, CheckResult] | undefined {
  const req = {
    src: tuple.src,
    dst: tuple.dst,
    protocol: tuple.protocol,
    ...(tuple.protocol === 'icmp' ? {} : { port: tuple.port }),
  };
  try {
    return [snap.before.check(req), snap.after.check(req)];
  } catch {
    return undefined; // an address no longer resolvable: nothing to say about it
  }
}

/**
 * Replay the window's flows through both snapshots.
 *
 * @example await replayFlows(store, snapshot, since, Date.now)
 */
export async function replayFlows(
  store: FlowStore,
  snap: ImpactSnapshot,
  since: string,
  clock: () => number = () => performance.now(),
): Promise<FlowReplay> {
  const t0 = clock();
  const tuples = await store.flowTuples(since);
  const tally = new ReplayTally();
  let slice = clock();
  for (const tuple of tuples) {
    tally.flows += tuple.count;
    const verdicts = judge(snap, tuple);
    if (verdicts) tally.add(tuple, ...verdicts);
    // A long window must not hold the event loop.
    if (clock() - slice > SLICE_MS) {
      await turn();
      slice = clock();
    }
  }
  const largest = <T extends { count: number }>(m: Map<string, T>) =>
    [...m.values()].sort((a, b) => b.count - a.count).slice(0, MAX_GROUPS);
  return {
    since,
    flows: tally.flows,
    distinct: tuples.length,
    changed: largest(tally.changed),
    changedFlows: tally.changedFlows,
    audit: largest(tally.audit),
    ms: Math.round(clock() - t0),
  };
}
