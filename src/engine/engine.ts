/**
 * The policy engine: a pure, incremental compiler from resources to identities,
 * resolved per-identity policy and verdicts (design.md §1–§3). No I/O; time is passed in.
 *
 * `Engine` is a façade over one shared state (./state/engine-state.ts) and its facets:
 * - apply (./apply/): batches, re-derivation of identities, invalidation;
 * - verdict (./verdict/): `check`, `verdict`, the pair cache, sides and defaults;
 * - host view (./hosts/): host states and the per-record / per-identity pieces the
 *   distribution feed reads.
 * docs/adr/0026-engine-facets.md records the split.
 *
 * @example
 *   const e = new Engine();
 *   e.load(docs, Date.now());
 *   e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict; // 'allow' | 'deny'
 */
import type { DeltaRecord } from '../model/host-delta.js';
import type { DefaultState, HostState, IpcacheEntry, SideState } from '../model/host-state.js';
import type { Ip } from '../model/net.js';
import {
  DEFAULT_SETTINGS,
  type Document,
  type Kind,
  type Protocol,
  type Tags,
} from '../model/types.js';
import { compileSelector, parseSelectorCached } from '../selector/index.js';
import { applyBatch, validateBatch } from './apply/apply-batch.js';
import { diffBatch, type DocumentDiff } from './apply/diff-batch.js';
import { steerTable } from './compile/steering-resolution.js';
import { HostView, type HostViewDelta } from './hosts/host-view.js';
import type { IdentityChanges, IdentitySeed } from './identity/identity-allocator.js';
import type { HeldDocument } from './state/document-index.js';
import { EngineState, type RecordState } from './state/engine-state.js';
import type {
  Change,
  CheckRequest,
  CheckResult,
  EngineDelta,
  FlowSegment,
  ResolvedPolicy,
  RuleWarning,
} from './types.js';
import { flowTable } from './verdict/flow-table.js';
import { resolvePolicyForTags } from './verdict/policy-for-tags.js';
import { Sides } from './verdict/sides.js';
import { Verdicts } from './verdict/verdicts.js';
import type { RuleWarningOptions } from './warnings/rule-warnings.js';
import { currentRuleWarnings, ruleWarningsAfter } from './warnings/state-warnings.js';
import type { SteerClass } from '../model/host-state.js';

export type { RecordState } from './state/engine-state.js';

export interface EngineOptions {
  /** How long a released identity keeps its number before reuse (ms). */
  identityGraceMs?: number;
}

export class Engine {
  private readonly opts: EngineOptions;
  private readonly state: EngineState;
  private readonly sides: Sides;
  private readonly verdicts: Verdicts;
  private readonly hosts: HostView;

  /** `from` is internal: the state a fork copies (see {@link fork}). */
  constructor(opts: EngineOptions = {}, from?: EngineState) {
    this.opts = opts;
    this.state = new EngineState(opts.identityGraceMs ?? 30_000, from);
    this.sides = new Sides(this.state);
    this.verdicts = new Verdicts(this.state, this.sides);
    this.hosts = new HostView(this.state, this.sides);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Initial full compile from a document list (any order). `identities` (persisted
   * allocations, see IdentityAllocator.seed) makes the numbers those of the database
   * rather than of the load order. `trusted`: the documents are a whole model that
   * passed this engine's validation before ({@link MODEL_VALIDATION}): it is not run
   * again (docs/adr/0059-trusted-model-load.md). Never set it on anything else: a model
   * that would not pass leaves the engine inconsistent.
   */
  load(
    docs: readonly Document[],
    now: number,
    opts: { identities?: readonly IdentitySeed[]; trusted?: boolean } = {},
  ): void {
    if (opts.identities?.length) this.state.alloc.seed(opts.identities, now);
    const changes = docs.map((doc) => ({ op: 'put' as const, doc }));
    const delta = applyBatch(this.state, changes, now, true, opts.trusted === true);
    this.afterBatch(delta, true);
  }

  /** Throws the first problem of the batch (references, addresses, compilability); changes nothing. */
  validate(changes: readonly Change[]): void {
    validateBatch(this.state, changes);
  }

  /** Validates, then applies a batch atomically; returns what changed for PEPs. */
  apply(changes: readonly Change[], now: number): EngineDelta {
    return this.applyBatch(changes, now, false);
  }

  private applyBatch(changes: readonly Change[], now: number, quiet: boolean): EngineDelta {
    return this.afterBatch(applyBatch(this.state, changes, now, quiet), quiet);
  }

  private afterBatch(delta: EngineDelta, quiet: boolean): EngineDelta {
    this.verdicts.pairs.forgetStale();
    this.hosts.afterBatch(delta, quiet);
    return delta;
  }

  /** Bound identity allocations (in use or in grace), for persisting them. */
  identityAllocations(): IdentitySeed[] {
    return this.state.alloc.entries();
  }

  /** Fingerprint of the bound identity allocations (what a store claim records). O(1). */
  identityFingerprint(): string {
    return this.state.alloc.fingerprint();
  }

  /**
   * The allocation rows changed since the previous call (first call: all), with the
   * fingerprints of all allocations before and after them: what a store claim needs
   * to record a revision in O(changed identities) (docs/adr/0007-distribution.md).
   */
  takeIdentityChanges(): IdentityChanges {
    return this.state.alloc.takeChanges();
  }

  /**
   * An independent copy (for dry runs, `kind: Test` documents and flow replays): the
   * compiled state copied, not recompiled — the same identities, selector members and
   * policies; caches (sides, pair tables, host views) start empty
   * (docs/adr/0049-engine-fork-by-copy.md). O(records + identities + selectors) of
   * copying, a small fraction of a load.
   */
  fork(): Engine {
    return new Engine(this.opts, this.state);
  }

  /** What a batch would do to each document, without doing it. */
  diff(changes: readonly Change[]): DocumentDiff[] {
    return diffBatch(changes, (kind, name) => this.get(kind, name));
  }

  // ---------------------------------------------------------------- documents and identities

  get(kind: Kind, name: string): HeldDocument | undefined {
    const { documents } = this.state;
    if (kind === 'Settings' && name === 'default')
      return documents.get('Settings', 'default') ?? { kind: 'Settings', ...DEFAULT_SETTINGS };
    return documents.get(kind, name);
  }

  /** Documents of a kind, sorted by name. */
  list(kind: Kind): HeldDocument[] {
    if (kind === 'Settings') return [this.get('Settings', 'default')!];
    return [...this.state.documents.docs[kind].values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  /** Every stored document (Settings only when set). */
  allDocuments(): HeldDocument[] {
    return Object.values(this.state.documents.docs).flatMap((m) => [...m.values()]);
  }

  /** Names of interface records whose tags match the selector, sorted. */
  select(selector: string): string[] {
    const pred = compileSelector(parseSelectorCached(selector));
    const out: string[] = [];
    for (const r of this.state.records.values()) if (pred(r.doc.tags)) out.push(r.name);
    return out.sort();
  }

  /** The identity number a record carries (undefined: no such record). */
  recordIdentity(recordName: string): number | undefined {
    return this.state.records.get(recordName)?.identity;
  }

  /**
   * Every record as compiled (its identity and parsed addresses, `ips[0]` the primary),
   * in no particular order: for whole-model passes that would otherwise list, sort and
   * re-parse every document (the impact preview). Read-only; a fork shares the `ips`
   * of the records it did not change.
   */
  records(): ReadonlyMap<string, Readonly<Pick<RecordState, 'identity' | 'ips'>>> {
    return this.state.records;
  }

  /**
   * An object that stays the same while the Policy and Partition documents do (a fork
   * shares it; a batch that changes either replaces it): a key for memos of what
   * depends on those documents alone, such as {@link getPolicyForTags}'s result.
   */
  policyGeneration(): object {
    return this.state.policyGeneration;
  }

  /** An identity's relevant tags and record count (undefined for unknown ids). */
  identityInfo(
    id: number,
  ): { id: number; tags: Tags; records: number; partitions: string[] } | undefined {
    const info = this.state.ids.get(id);
    return info && { id, tags: info.tags, records: info.records.size, partitions: info.partitions };
  }

  /** Live identities that hold at least one record, ascending. */
  liveIdentities(): number[] {
    const out: number[] = [];
    for (const info of this.state.ids.values()) if (info.records.size > 0) out.push(info.id);
    return out.sort((a, b) => a - b);
  }

  stats(): {
    records: number;
    identities: number;
    policies: number;
    partitions: number;
    selectors: number;
    sides: number;
  } {
    const { state } = this;
    return {
      records: state.records.size,
      identities: state.ids.size,
      policies: state.policies.size,
      partitions: state.partitions.size,
      selectors: state.cache.size,
      sides: state.sides.size,
    };
  }

  // ---------------------------------------------------------------- verdicts

  /** Judges a flow and explains both sides (design.md §2). */
  check(req: CheckRequest): CheckResult {
    return this.verdicts.check(req);
  }

  /**
   * The fast path: the verdict only, no explanation. Same tables as `check`.
   *
   * @example engine.verdict('web-1', 'db-1', 'tcp', 5432) // true when allowed
   */
  verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    return this.verdicts.verdict(src, dst, protocol, port);
  }

  /**
   * The verdict of traffic from `src` to `dst` for every port, as disjoint segments per
   * protocol (adjacent equal verdicts merged). Endpoints are identities (1 = world, an
   * address outside every record); give `ip` to include CIDR-peer rules for that
   * address. Both sides and defaults apply exactly as in `check`.
   *
   * @example engine.flowTable({ identity: 300 }, { identity: 301 }) // [{ proto: 'tcp', lo: 0, hi: 442, verdict: 'deny' }, …]
   */
  flowTable(src: { identity: number; ip?: Ip }, dst: { identity: number; ip?: Ip }): FlowSegment[] {
    return flowTable(this.sides, src, dst);
  }

  /** The steer classes of the via records routes name (design.md §1 `routes[]`). */
  steering(): SteerClass[] {
    return steerTable(this.state.classes);
  }

  /**
   * The seed's `get_policy_for_traffic`: merged, ordered rules for a record with these
   * tags. `shadowing: false` skips marking rules that can never decide (all `false`).
   */
  getPolicyForTags(tags: Tags, opts: { shadowing?: boolean } = {}): ResolvedPolicy {
    return resolvePolicyForTags(
      tags,
      [...this.state.policies.values()],
      [...this.state.partitions.values()].map((p) => p.doc),
      opts.shadowing ?? true,
    );
  }

  /**
   * Rules that can never decide (design.md §2.1), for `apply` to warn of: see
   * src/engine/warnings/rule-warnings.ts for what is reported and what it guarantees.
   */
  ruleWarnings(opts: RuleWarningOptions = {}): RuleWarning[] {
    return currentRuleWarnings(this.state, opts);
  }

  /**
   * `ruleWarnings` of the documents a batch would produce, without applying it (an apply
   * plans under the write lock; a fork would reload the documents). Shadowing only:
   * `unused` needs the batch's records evaluated, which a fork does.
   */
  ruleWarningsAfter(
    changes: readonly Change[],
    opts: { policies?: ReadonlySet<string> } = {},
  ): RuleWarning[] {
    return ruleWarningsAfter(this.state, changes, opts);
  }

  // ---------------------------------------------------------------- host view

  /** Everything one host's PEP needs (design.md §3–§4). O(records): for snapshots. */
  hostState(host: string, revision: number): HostState {
    return this.hosts.hostState(host, revision);
  }

  /**
   * An attached record's wire form as a host delta lists it (see HostView.attachedRecord).
   *
   * @example
   *   engine.attachedRecord('web-1')
   *   // { name: 'web-1', identity: 260, ips: ['10.0.0.5'], mac: '…', subnet: 'net',
   *   //   host: 'pep-1', cidr: '10.0.0.0/24', instance: 'vm-1' }
   */
  attachedRecord(name: string): DeltaRecord | undefined {
    return this.hosts.attachedRecord(name);
  }

  /** A record's ipcache entries, as every host state lists them (none: no such record). */
  ipcacheOf(name: string): readonly IpcacheEntry[] {
    return this.hosts.ipcacheOf(name);
  }

  /** An identity's sides and defaults, as any host state holding it lists them. */
  identityRules(id: number): { sides: SideState[]; defaults: DefaultState } {
    return this.hosts.identityRules(id);
  }

  /**
   * What a batch's delta (none: everything) changed in the host states, self-contained:
   * what the distribution feed turns into per-host deltas (see HostView.hostDelta).
   */
  hostDelta(delta?: EngineDelta): HostViewDelta {
    return this.hosts.hostDelta(delta);
  }

  /** Hosts a delta concerns (see HostView.hostsOf). */
  hostsOf(delta: EngineDelta): Set<string> {
    return this.hosts.hostsOf(delta);
  }
}
