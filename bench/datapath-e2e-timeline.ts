/**
 * Where a flip of the end-to-end figure spends its time (bench/datapath-e2e.ts): the
 * manager's feed step, the message written to each host's stream, the agent receiving
 * the folded state, its nft commit and the sweep behind it, then the probe seeing the
 * new verdict. Every mark is on one clock, the probe process's too ({@link now},
 * monotonic ms, sub-ms). The hooks wrap the objects' methods for the run only: the agent
 * and the manager are the ones in production, unchanged.
 */
import type { Agent } from '../src/agent/agent.js';
import type { NftJson } from '../src/agent/nft/types.js';
import type { HostState } from '../src/model/host-state.js';
import type { Manager } from '../src/server/manager.js';
import { distributionOf } from '../src/server/distribution/distribution.js';
import { percentile } from './measure.js';

/**
 * Milliseconds on the system's monotonic clock (CLOCK_MONOTONIC through
 * `process.hrtime`), the same in every process, so the probe process's marks and this
 * process's compare. `performance.timeOrigin + performance.now()` is not: each process
 * takes its origin from the wall clock when it starts, and a clock adjustment between
 * the two starts shifted every probe by a constant (seen − enforced p50 41–52 ms with
 * a p99 within 4 ms of it, in two runs of 2026-12-08).
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** One host's marks for a revision (monotonic ms, {@link now}). */
interface HostMarks {
  sent?: number;
  received?: number;
  committed?: number;
  /** The end of the sweep that covered this revision. */
  swept?: number;
  /** A sweep was running when this revision's apply started. */
  sweepOverlap?: boolean;
  /** The nft part of the apply (ms) and the commands it sent. */
  nftMs?: number;
  nftCommands?: number;
}

/** One flip's stages, in ms from just before the PATCH. */
export interface FlipBreakdown {
  revision: number;
  /** Monotonic ms ({@link now}) just before the PATCH: every `…Ms` below counts from here. */
  at: number;
  /** The flip allows a → b (both hosts must enforce) or denies it (either one does). */
  allowed: boolean;
  /** The PATCH answered. */
  ackMs: number;
  /** The feed step built (the engine's delta for the hosts). */
  stepMs: number;
  /** Per host: message written to its stream, state received, nft committed, sweep done. */
  hosts: Record<
    string,
    {
      sentMs: number;
      receivedMs: number;
      committedMs: number;
      sweptMs: number;
      overlap: boolean;
      nftMs: number;
      nftCommands: number;
    }
  >;
  /** The commit that decides the probe's verdict (allow: the later host's, deny: the earlier). */
  enforcedMs: number;
  /** The first probe that met the new verdict started. */
  seenMs: number;
  /**
   * Start gap between that probe and the one before it: the probe loop's resolution
   * then (filled in once every probe of the run finished: a denied one takes its timeout).
   */
  probeGapMs: number;
}

/** p50/p99 of each stage over the flips (ms from the PATCH). */
export interface BreakdownSummary {
  [stage: string]: { p50: number; p99: number };
}

/**
 * Marks per revision, recorded by hooks on the manager's distribution and the agents.
 *
 * @example const t = new FlipTimeline(server.manager, agents); … t.breakdown(rev, …)
 */
export class FlipTimeline {
  private readonly steps = new Map<number, number>();
  private readonly marks = new Map<string, Map<number, HostMarks>>();
  private readonly undo: (() => void)[] = [];

  constructor(manager: Manager, agents: Map<string, Agent>) {
    const d = distributionOf(manager);
    if (d) {
      this.undo.push(d.feed.onStep((step) => this.steps.set(step.to, now())));
      const peps = d.peps;
      const sent = peps.sent.bind(peps);
      peps.sent = (host, revision) => {
        this.of(host, revision).sent ??= now();
        sent(host, revision);
      };
      this.undo.push(() => (peps.sent = sent));
    }
    for (const [host, agent] of agents) this.hookAgent(host, agent);
  }

  private of(host: string, revision: number): HostMarks {
    let byRev = this.marks.get(host);
    if (!byRev) this.marks.set(host, (byRev = new Map()));
    let m = byRev.get(revision);
    if (!m) byRev.set(revision, (m = {}));
    return m;
  }

  private hookAgent(host: string, agent: Agent): void {
    const applyState = agent.applyState.bind(agent);
    let sweeping = false;
    agent.applyState = (state: HostState, changed?: boolean) => {
      this.of(host, state.revision).received ??= now();
      return applyState(state, changed);
    };
    const dp = agent.datapath;
    const applyPolicy = dp.applyPolicy.bind(dp);
    let current: HostMarks | undefined;
    dp.applyPolicy = async (state) => {
      const m = (current = this.of(host, state.revision));
      m.sweepOverlap = sweeping;
      const r = await applyPolicy(state);
      m.committed = now();
      return r;
    };
    // The nft backend of the kernel datapath (a private field: bench-only hook).
    const nft = (dp as unknown as { nft?: { apply(doc: NftJson): Promise<void> } }).nft;
    if (nft) {
      const apply = nft.apply.bind(nft);
      nft.apply = async (doc) => {
        const t0 = performance.now();
        await apply(doc);
        if (current) {
          current.nftMs = performance.now() - t0;
          current.nftCommands = doc.nftables.length;
        }
      };
      this.undo.push(() => (nft.apply = apply));
    }
    const sweep = dp.sweep.bind(dp);
    let sweptUpTo = 0;
    dp.sweep = async (state, applied) => {
      sweeping = true;
      try {
        return await sweep(state, applied);
      } finally {
        sweeping = false;
        const t = now();
        for (const [rev, m] of this.marks.get(host) ?? [])
          if (rev > sweptUpTo && rev <= state.revision) m.swept ??= t;
        sweptUpTo = Math.max(sweptUpTo, state.revision);
      }
    };
    this.undo.push(() => {
      agent.applyState = applyState;
      dp.applyPolicy = applyPolicy;
      dp.sweep = sweep;
    });
  }

  /** One flip's breakdown; `before` is the monotonic ms just before the PATCH. */
  breakdown(
    revision: number,
    allowed: boolean,
    before: number,
    ack: number,
    seen: number,
  ): FlipBreakdown {
    const rel = (t: number | undefined) => (t === undefined ? NaN : t - before);
    const hosts: FlipBreakdown['hosts'] = {};
    const commits: number[] = [];
    for (const [host, byRev] of this.marks) {
      const m = byRev.get(revision) ?? {};
      hosts[host] = {
        sentMs: rel(m.sent),
        receivedMs: rel(m.received),
        committedMs: rel(m.committed),
        sweptMs: rel(m.swept),
        overlap: m.sweepOverlap === true,
        nftMs: m.nftMs ?? NaN,
        nftCommands: m.nftCommands ?? NaN,
      };
      commits.push(rel(m.committed));
    }
    return {
      revision,
      at: before,
      allowed,
      ackMs: rel(ack),
      stepMs: rel(this.steps.get(revision)),
      hosts,
      enforcedMs: allowed ? Math.max(...commits) : Math.min(...commits),
      seenMs: rel(seen),
      probeGapMs: NaN,
    };
  }

  close(): void {
    for (const u of this.undo.splice(0)) u();
  }
}

/** The stages of every flip as named columns (host stages prefixed with the host). */
function stages(f: FlipBreakdown): Record<string, number> {
  const out: Record<string, number> = { ack: f.ackMs, step: f.stepMs };
  for (const [h, m] of Object.entries(f.hosts)) {
    out[`${h}.sent`] = m.sentMs;
    out[`${h}.received`] = m.receivedMs;
    out[`${h}.committed`] = m.committedMs;
    out[`${h}.swept`] = m.sweptMs;
    out[`${h}.nft`] = m.nftMs;
  }
  out.enforced = f.enforcedMs;
  out.seen = f.seenMs;
  out['seen-enforced'] = f.seenMs - f.enforcedMs;
  out.probeGap = f.probeGapMs;
  return out;
}

/**
 * p50/p99 per stage over the flips (NaN marks, e.g. a host that never saw the
 * revision, are left out).
 *
 * @example summarize(flips).enforced.p99
 */
export function summarize(flips: FlipBreakdown[]): BreakdownSummary {
  const columns = new Map<string, number[]>();
  for (const f of flips)
    for (const [k, v] of Object.entries(stages(f)))
      if (!Number.isNaN(v)) columns.set(k, [...(columns.get(k) ?? []), v]);
  const out: BreakdownSummary = {};
  for (const [k, xs] of columns) out[k] = { p50: percentile(xs, 50), p99: percentile(xs, 99) };
  return out;
}

/** One line per flip: the stages in order, for the slowest flips of a run. */
export function formatFlip(f: FlipBreakdown): string {
  const s = stages(f);
  const cols = Object.entries(s)
    .filter(([k]) => k !== 'seen-enforced')
    .map(([k, v]) => `${k} ${v.toFixed(1)}`);
  const overlap = Object.entries(f.hosts)
    .filter(([, m]) => m.overlap)
    .map(([h]) => h);
  return (
    `r${f.revision} ${f.allowed ? 'allow' : 'deny '}: ${cols.join(', ')}` +
    (overlap.length ? ` (sweep running at apply: ${overlap.join(', ')})` : '')
  );
}

/**
 * The per-stage lines of a report: each stage's p50/p99 in ms from the PATCH.
 *
 * @example formatBreakdown(e.breakdown) // ['  per stage, ms from the PATCH (p50/p99): ack 21.0/40.2, …']
 */
export function formatBreakdown(summary: BreakdownSummary | undefined): string[] {
  if (!summary) return [];
  const cols = Object.entries(summary).map(
    ([k, v]) => `${k} ${v.p50.toFixed(1)}/${v.p99.toFixed(1)}`,
  );
  return [`  per stage, ms from the PATCH (p50/p99): ${cols.join(', ')}`];
}
