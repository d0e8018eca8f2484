/**
 * The Linux PEP agent's kernel-facing half: turns HostStates into links and one
 * nftables table. Fail-static: nothing is ever removed because the manager is
 * gone; the last applied state stays enforced until a new one arrives.
 */
import type { HostState } from '../model/host-state.js';
import { checkHostState } from '../model/host-state-check.js';
import { checkInt } from '../model/validate-primitives.js';
import { forgetSteeredFlows, killDeniedFlows } from './conntrack.js';
import { makeExec, type Exec } from './exec.js';
import { LinkReconciler } from './link/reconcile.js';
import { KernelNft, type NftBackend } from './nft/apply.js';
import { AppliedTable, type TableChange } from './nft/applied-table.js';
import { renderTable } from './nft/render.js';
import { activeSteering } from './steering.js';

/** Wanted links unchanged: reconcile anyway after this long (drift repair). */
const LINK_RECHECK_MS = 60_000;

/** Agent settings. */
export interface AgentOptions {
  host: string;
  /** This host's underlay address: VXLAN source, and what the manager is told. */
  underlayIp: string;
  /** Runs commands (default: in the current namespace). */
  exec?: Exec;
  /** nft backend (default: the kernel via `exec`). */
  nft?: NftBackend;
  /** Link reconciler; `false` to manage no links (nft only). */
  links?: LinkReconciler | false;
  defaultVni?: number;
  mtu?: number;
  /** Delete conntrack entries of flows a new state denies (default true). */
  killDeniedFlows?: boolean;
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
  lastRevision?: number;
  /** Milliseconds of the last applyState: links, nft, total. */
  lastLinksMs?: number;
  lastNftMs?: number;
  lastApplyMs?: number;
  /** True when a table from a previous run was found and kept enforcing. */
  adopted: boolean;
}

/**
 * Applies HostStates to the kernel, serialised (one at a time, the newest wins).
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
    adopted: false,
  };
  private readonly exec: Exec;
  private readonly nft: NftBackend;
  private readonly links: LinkReconciler | undefined;
  private current: HostState | undefined;
  /** The table in the kernel (the policy of `current`); undefined: replace it whole. */
  private applied: AppliedTable | undefined;
  /** {@link steerPaths} of `current`, kept so it is not derived again on the next apply. */
  private steer = new Map<number, string>();
  private linksWanted: string | undefined;
  private linksCheckedAt = 0;
  private queue: Promise<void> = Promise.resolve();
  private pending: HostState | undefined;
  /** The state of the previous applyState call (applied, skipped or failed). */
  private offered: HostState | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.exec = opts.exec ?? makeExec();
    this.nft = opts.nft ?? new KernelNft(this.exec);
    this.links =
      opts.links === false
        ? undefined
        : (opts.links ??
          new LinkReconciler({
            exec: this.exec,
            underlayIp: opts.underlayIp,
            ...(opts.defaultVni !== undefined ? { defaultVni: opts.defaultVni } : {}),
            ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
          }));
  }

  /** The last state whose policy is in the kernel. */
  get state(): HostState | undefined {
    return this.current;
  }

  /**
   * Adopts a table left by a previous run: it keeps enforcing (no flush, no gap)
   * until the first state replaces it in one transaction.
   */
  async start(): Promise<void> {
    const table = await this.nft.list();
    this.stats.adopted = table !== undefined;
    if (table)
      this.opts.log?.(
        `adopted existing table inet vnp (${table.nftables.length} objects); enforcing it until the first state`,
      );
  }

  /**
   * Renders and applies nftables (a delta when the previous state is known, else a
   * full replace; a refused delta is retried as a full replace), then reconciles
   * links and deletes conntrack entries of flows the new state denies. Calls are
   * serialised; a state superseded while waiting is skipped, and so is a state
   * equal to the applied one. `state` (the getter) changes once nft has applied.
   *
   * `changed: false` says `state` equals the state of the previous call but for its
   * revision (an empty delta: the manager moved on without touching this host). When
   * that previous state is the applied one, only the revision is taken: no model is
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
   * Policy first: the nft transaction is what a tag change waits for, and it does
   * not need the links (interface names match as strings; a record whose veth is
   * not there yet simply has no traffic). Then links, then the conntrack sweep.
   */
  private async applyNow(state: HostState): Promise<void> {
    const t0 = performance.now();
    const ropts = this.opts.defaultVni !== undefined ? { defaultVni: this.opts.defaultVni } : {};
    try {
      // Nothing from the wire reaches a command unchecked (docs/security.md, "Command
      // construction"): a bad state is refused whole and the last one stays enforced.
      checkHostState(state, 'state', this.current);
      const { changed, change } = await this.applyTable(state, ropts);
      const t1 = performance.now();
      const steer = steerPaths(state, ropts);
      const retired = [...this.steer].filter(([k, v]) => steer.get(k) !== v).map(([k]) => k);
      this.current = state;
      this.steer = steer;
      if (this.links) await this.reconcileLinks(state);
      const t2 = performance.now();
      this.stats.applies++;
      this.stats.lastRevision = state.revision;
      this.stats.lastNftMs = t1 - t0;
      this.stats.lastLinksMs = t2 - t1;
      // Only a changed ruleset can deny an established flow (the first one included:
      // an adopted table may be older than this state).
      if (changed && this.opts.killDeniedFlows !== false)
        this.stats.killedFlows += await killDeniedFlows(
          this.exec,
          state,
          sweepScope(state, change),
        );
      if (retired.length > 0)
        this.stats.resteeredFlows += await forgetSteeredFlows(this.exec, retired);
      this.stats.lastApplyMs = performance.now() - t0;
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
  }

  /**
   * One nft transaction: the delta the applied table computes (only the elements and
   * chains the change implies), or the whole table for the first state, when the base
   * chains change, and when the kernel refused the delta. `change` is undefined after a
   * whole table (the sweep then judges every connection).
   */
  private async applyTable(
    state: HostState,
    ropts: { defaultVni?: number },
  ): Promise<{ changed: boolean; change?: TableChange }> {
    const applied = this.applied;
    // Whatever happens next, the table object is ahead of the kernel until nft applied.
    this.applied = undefined;
    const doc = applied?.advance(state);
    if (applied && doc) {
      try {
        await this.nft.apply(doc);
        this.stats.deltaApplies++;
        this.applied = applied;
        return { changed: doc.nftables.length > 0, change: applied.change };
      } catch (err) {
        this.opts.log?.(`delta refused, replacing the table: ${(err as Error).message}`);
      }
    }
    const whole = AppliedTable.build(state, ropts);
    await this.nft.apply(renderTable(whole.table));
    this.stats.fullApplies++;
    this.applied = whole;
    return { changed: true };
  }

  /**
   * Links after policy; a link failure never blocks anything: it is logged, counted
   * and retried with the next state.
   */
  private async reconcileLinks(state: HostState): Promise<void> {
    // Unchanged wanted links: skip the reads, but re-check once a minute so drift
    // (a route deleted by hand) is repaired.
    const desired = this.links!.desired(state);
    const want = JSON.stringify(desired);
    const now = performance.now();
    if (want === this.linksWanted && now - this.linksCheckedAt < LINK_RECHECK_MS) return;
    try {
      const report = await this.links!.reconcile(state, desired);
      for (const f of report.failed) this.opts.log?.(`record ${f.record}: not plumbed: ${f.error}`);
      for (const w of report.warnings) this.opts.log?.(w);
      if (report.unreachable.length > 0)
        this.opts.log?.(`no underlay address for the hosts of: ${report.unreachable.join(', ')}`);
      this.stats.linkFailures += report.failed.length;
      this.linksWanted = report.failed.length === 0 ? want : undefined;
      this.linksCheckedAt = now;
    } catch (err) {
      this.stats.linkFailures++;
      this.linksWanted = undefined;
      this.opts.log?.(`links: ${(err as Error).message}`);
    }
  }

  /** Removes the agent's table (not done on disconnect: fail-static). */
  async removePolicy(): Promise<void> {
    await this.nft.flush();
    this.current = undefined;
    this.applied = undefined;
    this.steer = new Map();
  }
}

/**
 * Where each active steer class of `state` leads (`via|dev`): a class of the applied
 * state that the next one drops or points elsewhere is retired (its flows forgotten).
 */
function steerPaths(state: HostState, opts: { defaultVni?: number }): Map<number, string> {
  return new Map([...activeSteering(state, opts)].map(([k, a]) => [k, `${a.via}|${a.dev}`]));
}

/**
 * The addresses whose connections a change can deny: those of the local records of
 * the identities it changed, and those whose identity changed. Undefined (every
 * connection) after a whole table.
 */
function sweepScope(state: HostState, change: TableChange | undefined): string[] | undefined {
  if (!change) return undefined;
  const addresses = new Set(change.addresses);
  if (change.identities.size > 0)
    for (const r of state.locals)
      if (change.identities.has(r.identity)) for (const ip of r.ips) addresses.add(ip);
  return [...addresses];
}
