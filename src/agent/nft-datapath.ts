/**
 * The Linux kernel datapath: one nftables table `inet vnp` (applied by delta, see
 * src/agent/nft/), VXLAN-GBP and veth links (src/agent/link/), and conntrack (the
 * sweep that cuts connections a new state denies, and steered flows whose class
 * changed meaning).
 */
import type { HostState } from '../model/host-state.js';
import { forgetSteeredFlows, killDeniedFlows } from './conntrack.js';
import type { Datapath, LinksReconciled, PolicyApplied, Swept } from './datapath.js';
import { makeExec, type Exec } from './exec.js';
import { LinkReconciler } from './link/reconcile.js';
import { KernelNft, type NftBackend } from './nft/apply.js';
import { AppliedTable, type TableChange } from './nft/applied-table.js';
import { renderTable } from './nft/render.js';
import type { DenyLogOptions, RenderOptions } from './nft/table.js';
import { activeSteering } from './steering.js';
import { SteerWire, steerWireDevices } from './steer-wire.js';

/** Wanted links unchanged: reconcile anyway after this long (drift repair). */
const LINK_RECHECK_MS = 60_000;

/** Settings of {@link NftDatapath}. */
export interface NftDatapathOptions {
  /** This host's underlay address: the VXLAN source. */
  underlayIp: string;
  /** Runs commands (default: in the current namespace). */
  exec?: Exec;
  /** nft backend (default: the kernel via `exec`). */
  nft?: NftBackend;
  /** Link reconciler; `false` to manage no links (nft only). */
  links?: LinkReconciler | false;
  defaultVni?: number;
  /** Deny samples to NFLOG: group and rate per second (nft/deny-chain.ts). */
  denyLog?: DenyLogOptions;
  mtu?: number;
  /** Delete conntrack entries of flows a new state denies (default true). */
  killDeniedFlows?: boolean;
  log?: (msg: string) => void;
}

/** nftables + links + conntrack, behind {@link Datapath}. */
export class NftDatapath implements Datapath {
  readonly kind = 'nftables' as const;
  private readonly exec: Exec;
  private readonly nft: NftBackend;
  private readonly links: LinkReconciler | undefined;
  private readonly ropts: RenderOptions;
  /** The table in the kernel; undefined: replace it whole. */
  private applied: AppliedTable | undefined;
  /**
   * What the programs applied since the last sweep started changed, merged (undefined
   * after a whole table: sweep everything). The agent runs the sweep behind the
   * applies, so several may come before it.
   */
  private change: TableChange | undefined;
  /** {@link steerPaths} of the applied state, kept so it is not derived again. */
  private steer = new Map<number, string>();
  /** Steer classes retired since the last sweep started (their flows are forgotten by it). */
  private retired = new Set<number>();
  private linksWanted: string | undefined;
  private readonly wire: SteerWire;
  private linksCheckedAt = 0;

  constructor(private readonly opts: NftDatapathOptions) {
    this.exec = opts.exec ?? makeExec();
    this.nft = opts.nft ?? new KernelNft(this.exec);
    this.wire = new SteerWire(this.exec);
    this.ropts = {
      ...(opts.defaultVni !== undefined ? { defaultVni: opts.defaultVni } : {}),
      ...(opts.denyLog ? { denyLog: opts.denyLog } : {}),
    };
    this.links =
      opts.links === false
        ? undefined
        : (opts.links ??
          new LinkReconciler({
            exec: this.exec,
            underlayIp: opts.underlayIp,
            ...this.ropts,
            ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
          }));
  }

  async adopt(): Promise<string | undefined> {
    const table = await this.nft.list();
    return table ? `table inet vnp (${table.nftables.length} objects)` : undefined;
  }

  /**
   * One nft transaction: the delta the applied table computes (only the elements and
   * chains the change implies), or the whole table for the first state, when the base
   * chains change, and when the kernel refused the delta.
   */
  async applyPolicy(state: HostState): Promise<PolicyApplied> {
    const applied = this.applied;
    // Whatever happens next, the table object is ahead of the kernel until nft applied.
    this.applied = undefined;
    const result = await this.applyTable(state, applied);
    const steer = steerPaths(state, this.ropts);
    for (const [k, v] of this.steer) if (steer.get(k) !== v) this.retired.add(k);
    this.steer = steer;
    return result;
  }

  private async applyTable(
    state: HostState,
    applied: AppliedTable | undefined,
  ): Promise<PolicyApplied> {
    const doc = applied?.advance(state);
    if (applied && doc) {
      try {
        await this.nft.apply(doc);
        this.applied = applied;
        this.change = this.change && mergeChanges(this.change, applied.change);
        return { whole: false, changed: doc.nftables.length > 0 };
      } catch (err) {
        this.opts.log?.(`delta refused, replacing the table: ${(err as Error).message}`);
      }
    }
    const whole = AppliedTable.build(state, this.ropts);
    await this.nft.apply(renderTable(whole.table));
    this.applied = whole;
    this.change = undefined;
    return { whole: true, changed: true };
  }

  /**
   * Links after policy; a link failure never blocks anything: it is logged, counted
   * and retried with the next state.
   */
  async reconcileLinks(state: HostState): Promise<LinksReconciled> {
    if (!this.links) return { failures: 0 };
    // Unchanged wanted links: skip the reads, but re-check once a minute so drift
    // (a route deleted by hand) is repaired.
    const desired = this.links.desired(state);
    const wire = steerWireDevices(
      state,
      desired.vxlans.map((v) => v.name),
      this.ropts,
    );
    const want = `${JSON.stringify(desired)}|${wire.join(',')}`;
    const now = performance.now();
    if (want === this.linksWanted && now - this.linksCheckedAt < LINK_RECHECK_MS)
      return { failures: 0 };
    try {
      const report = await this.links.reconcile(state, desired);
      for (const f of report.failed) this.opts.log?.(`record ${f.record}: not plumbed: ${f.error}`);
      for (const w of report.warnings) this.opts.log?.(w);
      if (report.unreachable.length > 0)
        this.opts.log?.(`no underlay address for the hosts of: ${report.unreachable.join(', ')}`);
      const wired = await this.steerWire(wire);
      this.linksWanted = report.failed.length === 0 && wired ? want : undefined;
      this.linksCheckedAt = now;
      return { failures: report.failed.length + (wired ? 0 : 1) };
    } catch (err) {
      this.linksWanted = undefined;
      this.opts.log?.(`links: ${(err as Error).message}`);
      return { failures: 1 };
    }
  }

  /**
   * The VXLAN devices' egress translation (steer-wire.ts) while a local source may be
   * steered to another host: a steered packet (mark k) also carries steerMac(k) as
   * inner source MAC, which is what a via record's host reads when it is an OVS host.
   * Rewritten with every link pass (a re-created device loses its chain). False when
   * nft refused.
   */
  private async steerWire(devices: string[]): Promise<boolean> {
    this.wire.forget();
    try {
      await this.wire.ensure(devices);
      return true;
    } catch (err) {
      this.opts.log?.(`steering: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Only a changed ruleset can deny an established flow (the first one included: an
   * adopted table may be older than this state). Takes what the programs applied
   * since the last sweep changed; `state` is the newest of them.
   */
  async sweep(state: HostState, applied: PolicyApplied): Promise<Swept> {
    const change = applied.whole ? undefined : this.change;
    const retired = [...this.retired];
    this.change = noChange();
    this.retired.clear();
    let killedFlows = 0;
    let resteeredFlows = 0;
    if (applied.changed && this.opts.killDeniedFlows !== false)
      killedFlows = await killDeniedFlows(
        this.exec,
        state,
        change ? { ...change, steerClasses: this.steer.keys() } : undefined,
      );
    if (retired.length > 0) resteeredFlows = await forgetSteeredFlows(this.exec, retired);
    return { killedFlows, resteeredFlows };
  }

  close(): void {
    this.nft.close?.();
  }

  async removePolicy(): Promise<void> {
    await this.nft.flush();
    // The steer-class translation goes with the policy (links stay); it exists only
    // where this datapath manages links.
    if (this.links) {
      this.wire.forget();
      await this.wire.ensure([]);
    }
    this.applied = undefined;
    this.change = undefined;
    this.steer = new Map();
    this.retired.clear();
  }
}

/** What nothing changed: the scope after a sweep took the changes before it. */
const noChange = (): TableChange => ({
  identities: new Set(),
  localSenders: false,
  addresses: new Set(),
});

/** Both changes' scopes (applied one after the other, swept once). */
function mergeChanges(a: TableChange, b: TableChange): TableChange {
  return {
    identities: new Set([...a.identities, ...b.identities]),
    localSenders: a.localSenders || b.localSenders,
    addresses: new Set([...a.addresses, ...b.addresses]),
  };
}

/**
 * Where each active steer class of `state` leads (`via|dev`): a class of the applied
 * state that the next one drops or points elsewhere is retired (its flows forgotten).
 */
function steerPaths(state: HostState, opts: { defaultVni?: number }): Map<number, string> {
  return new Map([...activeSteering(state, opts)].map(([k, a]) => [k, `${a.via}|${a.dev}`]));
}
