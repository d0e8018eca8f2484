/**
 * The policy engine: a pure, incremental compiler from resources to identities,
 * resolved per-identity policy and verdicts (design.md §1–§3). No I/O; time is passed in.
 *
 * Pipeline of one `apply(changes, now)`:
 *   1. validate the whole batch against the state it would produce (throws, changes nothing);
 *   2. update documents; (un)register policies and partitions in the selector cache;
 *   3. derive identities of the touched records (all records only when the set of
 *      identity-relevant keys changed);
 *   4. evaluate new identities against existing selectors and new selectors against all
 *      identities — through guard indexes, not the full cross product;
 *   5. turn membership changes into invalidations: a side is dropped only when its own
 *      rules changed; a peer's table inside a side is dropped when that peer's
 *      membership changed; the fast path's cached pairs are forgotten for those
 *      identities only (every pair after a settings or partition change). Everything
 *      is rebuilt lazily on the next lookup.
 *
 * @example
 *   const e = new Engine();
 *   e.load(docs, Date.now());
 *   e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict; // 'allow' | 'deny'
 */
import { VnpError } from '../model/errors.js';
import type { DeltaRecord } from '../model/host-delta.js';
import type { DefaultState, Direction, IpcacheEntry, SideState } from '../model/host-state.js';
import { IDENTITY_WORLD, type HostState } from '../model/host-state.js';
import { formatIp, ipKey, parseIp, type Ip } from '../model/net.js';
import { stripMeta } from '../model/strip-meta.js';
import { canonicalTagsJson } from '../model/tags.js';
import {
  DEFAULT_SETTINGS,
  PROTOCOLS,
  type Document,
  type Interface,
  type IntraDefault,
  type Kind,
  type Partition,
  type Policy,
  type Protocol,
  type Settings,
  type Tags,
} from '../model/types.js';
import { canonicalSelector, compileSelector, parseSelectorCached } from '../selector/index.js';
import {
  comparePrecedence,
  compilePolicy,
  releasePolicy,
  type CompiledPolicy,
  type CompiledRoute,
  type CompiledRule,
} from './compile/compiled-rule.js';
import { DeltaBuilder } from './apply/delta-builder.js';
import { explainSide, notEvaluated, sameRecordSide, type PeerEndpoint } from './verdict/explain.js';
import {
  buildHostIndex,
  buildHostState,
  identityDefaults,
  identitySides,
  type HostIndex,
  type HostStateContext,
} from './hosts/host-state-builder.js';
import {
  IdentityAllocator,
  type IdentityChanges,
  type IdentitySeed,
} from './identity/identity-allocator.js';
import { IdentityRegistry, type IdentityInfo } from './identity/identity-registry.js';
import { DocumentIndex, type HeldDocument } from './state/document-index.js';
import { resolvePolicyForTags } from './verdict/policy-for-tags.js';
import { ruleWarnings, type RuleWarningOptions } from './warnings/rule-warnings.js';
import { PairCache } from './verdict/pair-cache.js';
import { pairDefault, pairDefaultReason, type PairDefault } from './verdict/pair-default.js';
import { PortTable, PROTO_INDEX, PROTO_NAMES } from './compile/port-table.js';
import { ResolvedSide } from './compile/resolved-side.js';
import { AddressSet } from './compile/address-set.js';
import type { AddressRange } from './compile/address-table.js';
import type { SelectorCache, SelectorEntry } from './identity/selector-cache.js';
import { SelectorCache as Cache } from './identity/selector-cache.js';
import type {
  Change,
  CheckRequest,
  CheckResult,
  EndpointInfo,
  EngineDelta,
  FlowSegment,
  ResolvedPolicy,
  RuleWarning,
} from './types.js';
import { checkCompilable } from './compile/compilable.js';
import {
  buildRouteSide,
  explainRoute,
  steerClasses,
  steerTable,
  type ViaStatus,
} from './compile/route-resolution.js';
import type { SteerClass } from '../model/host-state.js';

export interface EngineOptions {
  /** How long a released identity keeps its number before reuse (ms). */
  identityGraceMs?: number;
}

/** A record as compiled: its addresses and identity. */
export interface RecordState {
  readonly name: string;
  doc: Interface & Partial<HeldDocument>;
  ips: Ip[];
  identity: number;
  /** Engine.cidrEpoch when `nearCidr` was computed (see Engine.nearCidr). */
  cidrEpoch?: number;
  /** The primary address is inside some CIDR peer of the model. */
  nearCidr?: boolean;
}

/** A resolved flow endpoint. */
interface Endpoint extends PeerEndpoint {
  record?: RecordState;
  info?: IdentityInfo;
}

interface PartitionState {
  doc: Partition;
  entry: SelectorEntry;
}

/** Past this many cached pairs the cache starts over (memory stays bounded). */
const PAIR_CACHE_LIMIT = 1_000_000;
/** Past this many interned pair tables they all start over, pairs included (bounded memory). */
const PAIR_TABLE_LIMIT = 65_536;
const sideKey = (id: number, dir: Direction) => id * 2 + (dir === 'egress' ? 0 : 1);

export class Engine {
  private readonly opts: EngineOptions;
  private readonly model = new DocumentIndex();
  private readonly cache: SelectorCache = new Cache();
  private readonly alloc: IdentityAllocator;
  private readonly ids = new IdentityRegistry();
  private readonly records = new Map<string, RecordState>();
  private readonly policies = new Map<string, CompiledPolicy>();
  private readonly partitions = new Map<string, PartitionState>();
  private settings: Settings = DEFAULT_SETTINGS;
  /** Entry → policies using it as appliesTo / as a rule peer; partitions using it. */
  private readonly appliesUsers = new Map<SelectorEntry, Set<string>>();
  private readonly peerUsers = new Map<SelectorEntry, Set<string>>();
  private readonly partitionUsers = new Map<SelectorEntry, Set<string>>();
  /** Partition name → policies naming it as a rule peer. */
  private readonly partitionPeerUsers = new Map<string, Set<string>>();
  private readonly sides = new Map<number, ResolvedSide>();
  /** Identity → its resolved routes (built lazily, dropped with its egress side). */
  private readonly routeSides = new Map<number, ResolvedSide>();
  /** Via record name → steer class; rebuilt after a policy change (empty: no routes). */
  private classes: Map<string, number> = new Map();
  private noRoutes: ResolvedSide | undefined;
  private readonly defaultsCache = new Map<number, 'allow' | 'deny'>();
  private lastNow = 0;
  /** (src identity, dst identity) → index into pairTables (see pairTable). */
  private readonly pairCache = new PairCache(PAIR_CACHE_LIMIT);
  /**
   * Distinct final verdict tables, interned: most pairs share one of a few tables
   * (cross-partition deny, a tier's allow list), so the fast path's working set is
   * the number of distinct tables, not of pairs.
   */
  private pairTables: PortTable[] = [];
  /** Per interned table: a side of its pairs has CIDR rules (the table leaves them out). */
  private pairCidr: boolean[] = [];
  private readonly pairIntern = new Map<string, number>();
  /** Bumped by every policy change: CIDR peers may have changed (see nearCidr). */
  private cidrEpoch = 0;
  private cidrSet: { epoch: number; set: AddressSet } | undefined;
  /**
   * Identities whose cached pairs the current batch may have changed: their egress or
   * ingress side, their membership in some selector or partition, or their existence.
   * A pair's table depends only on side(src, egress), side(dst, ingress) and the pair
   * default (both endpoints' partitions, partition docs, settings), so forgetting the
   * pairs of these identities is enough unless `allPairsStale` (see forgetStalePairs).
   */
  private readonly stalePairIds = new Set<number>();
  /** The batch changed something every pair may depend on (settings, partitions, re-keying). */
  private allPairsStale = false;
  /** Shared part of every host's state; built on first use, then updated per change. */
  private hostIndex: HostIndex | undefined;

  constructor(opts: EngineOptions = {}) {
    this.opts = opts;
    this.alloc = new IdentityAllocator({ graceMs: opts.identityGraceMs ?? 30_000 });
  }

  // ---------------------------------------------------------------- writes

  /**
   * Initial full compile from a document list (any order). `identities` (persisted
   * allocations, see IdentityAllocator.seed) makes the numbers those of the database
   * rather than of the load order.
   */
  load(
    docs: readonly Document[],
    now: number,
    opts: { identities?: readonly IdentitySeed[] } = {},
  ): void {
    if (opts.identities?.length) this.alloc.seed(opts.identities, now);
    this.applyBatch(
      docs.map((doc) => ({ op: 'put' as const, doc })),
      now,
      true,
    );
  }

  /** Throws the first problem of the batch (references, addresses, compilability); changes nothing. */
  validate(changes: readonly Change[]): void {
    for (const c of changes) if (c.op === 'put') checkCompilable(c.doc);
    this.model.validate(changes);
  }

  /** Validates, then applies a batch atomically; returns what changed for PEPs. */
  apply(changes: readonly Change[], now: number): EngineDelta {
    return this.applyBatch(changes, now, false);
  }

  private applyBatch(changes: readonly Change[], now: number, quiet: boolean): EngineDelta {
    this.validate(changes);
    this.lastNow = now;
    const d = new DeltaBuilder(quiet);
    const touched = new Set<string>();
    const droppedAppliesMembers: number[] = [];
    const newPolicies: CompiledPolicy[] = [];
    const changedPartitions = new Set<string>();
    const partitionOldMembers: number[] = [];
    let settingsChanged = false;
    for (const c of changes) {
      const kind: Kind = c.op === 'put' ? c.doc.kind : c.kind;
      const name = c.op === 'put' ? c.doc.name : c.name;
      const prev = c.op === 'put' ? this.model.put(c.doc) : this.model.remove(kind, name);
      const next = c.op === 'put' ? c.doc : undefined;
      switch (kind) {
        case 'Interface':
          touched.add(name);
          break;
        case 'Instance':
        case 'Subnet':
          for (const r of (kind === 'Instance' ? this.model.byInstance : this.model.bySubnet).get(
            name,
          ) ?? [])
            d.record(r);
          if (kind === 'Instance') this.noteHostChange(prev, next, d);
          break;
        case 'Policy':
          if (prev) droppedAppliesMembers.push(...this.unregisterPolicy(name));
          if (next) newPolicies.push(this.registerPolicy(next as Policy));
          break;
        case 'Partition':
          if (prev) partitionOldMembers.push(...this.unregisterPartition(name));
          if (next) this.registerPartition(next as Partition);
          changedPartitions.add(name);
          break;
        case 'Settings':
          this.settings = (next as Settings | undefined) ?? DEFAULT_SETTINGS;
          settingsChanged = true;
          break;
        case 'Reaction':
          break;
      }
    }
    if (policiesChanged(changes)) this.refreshSteerClasses(d);
    const newIds: number[] = [];
    if (this.cache.takeKeysChanged()) this.rederiveAll(touched, now, d, newIds);
    else for (const name of [...touched].sort()) this.rederive(name, now, d, newIds);
    this.evaluateNewIdentities(newIds, d);
    this.evaluatePendingSelectors();
    for (const id of this.alloc.sweep(now)) this.releaseIdentity(id, d);
    for (const id of droppedAppliesMembers) this.dropSides(id, d);
    for (const p of newPolicies) for (const id of p.appliesTo.members) this.dropSides(id, d);
    for (const id of partitionOldMembers) this.partitionMembershipChanged(id, d);
    for (const name of changedPartitions) this.partitionChanged(name, d);
    if (settingsChanged) {
      this.defaultsCache.clear();
      for (const id of this.ids.ids()) d.defaults.add(id);
    }
    this.finishDefaults(d);
    // Defaults of whole groups changed (settings, a partition's selector or intra) or
    // identities were re-keyed in place: no short list of stale identities.
    if (quiet || settingsChanged || changedPartitions.size > 0) this.allPairsStale = true;
    this.forgetStalePairs();
    const delta = d.build();
    // A quiet batch (a load) records no names: rebuild the index on first use.
    if (quiet) this.hostIndex = undefined;
    else this.hostIndex?.update(delta.records, this.hostContext());
    return delta;
  }

  /** Bound identity allocations (in use or in grace), for persisting them. */
  identityAllocations(): IdentitySeed[] {
    return this.alloc.entries();
  }

  /**
   * The allocation rows changed since the previous call (first call: all), with the
   * fingerprints of all allocations before and after them: what a store claim needs
   * to record a revision in O(changed identities) (docs/adr/0007-distribution.md).
   */
  takeIdentityChanges(): IdentityChanges {
    return this.alloc.takeChanges();
  }

  /** An independent copy (for dry runs and `kind: Test` documents). */
  fork(): Engine {
    const e = new Engine(this.opts);
    e.load(this.allDocuments(), this.lastNow);
    return e;
  }

  /** What a batch would do to each document, without doing it. */
  diff(changes: readonly Change[]): {
    op: 'create' | 'replace' | 'delete' | 'unchanged';
    kind: Kind;
    name: string;
    before?: Document;
    after?: Document;
  }[] {
    return changes.map((c) => {
      const kind = c.op === 'put' ? c.doc.kind : c.kind;
      const name = c.op === 'put' ? c.doc.name : c.name;
      const before = this.get(kind, name);
      if (c.op === 'delete')
        return {
          op: 'delete' as const,
          kind,
          name,
          ...(before ? { before: stripMeta(before) } : {}),
        };
      if (!before) return { op: 'create' as const, kind, name, after: c.doc };
      const b = stripMeta(before);
      const same = canonicalTagsJson(b as never) === canonicalTagsJson(stripMeta(c.doc) as never);
      return {
        op: same ? ('unchanged' as const) : ('replace' as const),
        kind,
        name,
        before: b,
        after: c.doc,
      };
    });
  }

  // ---------------------------------------------------------------- reads

  get(kind: Kind, name: string): HeldDocument | undefined {
    if (kind === 'Settings' && name === 'default')
      return this.model.get('Settings', 'default') ?? { kind: 'Settings', ...DEFAULT_SETTINGS };
    return this.model.get(kind, name);
  }

  /** Documents of a kind, sorted by name. */
  list(kind: Kind): HeldDocument[] {
    if (kind === 'Settings') return [this.get('Settings', 'default')!];
    return [...this.model.docs[kind].values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  /** Every stored document (Settings only when set). */
  allDocuments(): HeldDocument[] {
    return Object.values(this.model.docs).flatMap((m) => [...m.values()]);
  }

  /** Names of interface records whose tags match the selector, sorted. */
  select(selector: string): string[] {
    const pred = compileSelector(parseSelectorCached(selector));
    const out: string[] = [];
    for (const r of this.records.values()) if (pred(r.doc.tags)) out.push(r.name);
    return out.sort();
  }

  identityOf(recordName: string): number | undefined {
    return this.records.get(recordName)?.identity;
  }

  /** An identity's relevant tags and record count (undefined for unknown ids). */
  identity(
    id: number,
  ): { id: number; tags: Tags; records: number; partitions: string[] } | undefined {
    const info = this.ids.get(id);
    return info && { id, tags: info.tags, records: info.records.size, partitions: info.partitions };
  }

  /** Live identities that hold at least one record, ascending. */
  identities(): number[] {
    const out: number[] = [];
    for (const info of this.ids.values()) if (info.records.size > 0) out.push(info.id);
    return out.sort((a, b) => a - b);
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
    const eg = src.identity === IDENTITY_WORLD ? undefined : this.side(src.identity, 'egress');
    const ing = dst.identity === IDENTITY_WORLD ? undefined : this.side(dst.identity, 'ingress');
    const out: FlowSegment[] = [];
    for (let proto = 0; proto < PROTO_NAMES.length; proto++) {
      const cuts = new Set<number>([0]);
      const addCuts = (side: ResolvedSide | undefined, peer: number, ip: Ip | undefined) => {
        if (!side) return;
        for (const seg of side.peerTable(peer).segments())
          if (seg.proto === proto) cuts.add(seg.lo).add(seg.hi + 1);
        const cseg = ip && side.cidrTable?.lookup(ip.family, ip.value);
        if (cseg)
          for (const seg of cseg.ports.segments())
            if (seg.proto === proto) cuts.add(seg.lo).add(seg.hi + 1);
      };
      addCuts(eg, dst.identity, dst.ip);
      addCuts(ing, src.identity, src.ip);
      const points = [...cuts].filter((c) => c <= 65535).sort((a, b) => a - b);
      points.forEach((lo, i) => {
        const hi = i + 1 < points.length ? points[i + 1]! - 1 : 65535;
        const allow =
          (!eg || this.sideAllowsAt(eg, dst, proto, lo)) &&
          (!ing || this.sideAllowsAt(ing, src, proto, lo));
        const verdict = allow ? ('allow' as const) : ('deny' as const);
        const last = out[out.length - 1];
        if (
          last &&
          last.proto === PROTO_NAMES[proto] &&
          last.verdict === verdict &&
          last.hi + 1 === lo
        )
          last.hi = hi;
        else out.push({ proto: PROTO_NAMES[proto]!, lo, hi, verdict });
      });
    }
    return out;
  }

  stats(): {
    records: number;
    identities: number;
    policies: number;
    partitions: number;
    selectors: number;
    sides: number;
  } {
    return {
      records: this.records.size,
      identities: this.ids.size,
      policies: this.policies.size,
      partitions: this.partitions.size,
      selectors: this.cache.size,
      sides: this.sides.size,
    };
  }

  /** Judges a flow and explains both sides (design.md §2). */
  check(req: CheckRequest): CheckResult {
    const { proto, port } = flowPorts(req);
    const s = this.endpoint(req.src, 'src');
    const t = this.endpoint(req.dst, 'dst');
    const src = this.endpointInfo(s);
    const dst = this.endpointInfo(t);
    if (s.record && s.record === t.record) {
      return {
        verdict: 'allow',
        reason: 'a record talking to itself is allowed',
        src,
        dst,
        egress: sameRecordSide(),
        ingress: sameRecordSide(),
      };
    }
    const d = this.pairDefaultOf(s.info, t.info);
    const def = { verdict: d.verdict, reason: pairDefaultReason(d) };
    const egress = s.record
      ? explainSide(this.side(s.identity, 'egress'), t, proto, port, def, this.memberTest)
      : notEvaluated('the source is an address outside every record');
    const ingress = t.record
      ? explainSide(this.side(t.identity, 'ingress'), s, proto, port, def, this.memberTest)
      : notEvaluated('the destination is an address outside every record');
    const verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
    const route =
      verdict === 'allow' && s.record
        ? explainRoute(
            this.routeSide(s.identity),
            t,
            proto,
            port,
            this.memberTest,
            this.classes,
            (via) => this.viaStatus(via, s.record!, t),
          )
        : undefined;
    return {
      verdict,
      reason: flowReason(verdict, egress, ingress),
      src,
      dst,
      egress,
      ingress,
      ...(route ? { route } : {}),
    };
  }

  /** The steer classes of the via records routes name (design.md §1 `routes[]`). */
  steering(): SteerClass[] {
    return steerTable(this.classes);
  }

  /** Whether a via record can carry steered traffic of a flow between `src` and `dst`. */
  private viaStatus(via: string, src: RecordState, dst: Endpoint): ViaStatus {
    if (via === src.name) return { ok: false, reason: 'the via record is the source' };
    if (via === dst.record?.name) return { ok: false, reason: 'the via record is the destination' };
    const rec = this.records.get(via);
    if (!rec) return { ok: false, reason: `no interface record "${via}"` };
    if (!rec.ips.some((ip) => ip.family === dst.ip.family))
      return { ok: false, reason: `"${via}" has no IPv${dst.ip.family} address` };
    const inst = rec.doc.instance;
    if (inst === undefined) return { ok: false, reason: `"${via}" is not attached to an instance` };
    if (this.model.get('Instance', inst)?.host === undefined)
      return { ok: false, reason: `instance "${inst}" of "${via}" does not exist` };
    return { ok: true };
  }

  /**
   * The fast path: the verdict only, no explanation. Same tables as `check`.
   *
   * @example engine.verdict('web-1', 'db-1', 'tcp', 5432) // true when allowed
   */
  verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    const s = this.records.get(src);
    const t = this.records.get(dst);
    if (s === undefined || t === undefined) {
      return this.check({ src, dst, protocol, port }).verdict === 'allow';
    }
    if (s === t) return true;
    const proto = PROTO_INDEX[protocol];
    const p = proto === 3 ? 0 : port;
    const at = this.pairIndex(s.identity, t.identity);
    // A pair table leaves CIDR rules out: exact unless a CIDR peer covers an address here.
    if (!this.pairCidr[at] || !(this.nearCidr(s) || this.nearCidr(t)))
      return this.pairTables[at]!.lookup(proto, p) === 1;
    return (
      this.sideAllows(s.identity, 'egress', t.identity, t.ips[0]!, proto, p) &&
      this.sideAllows(t.identity, 'ingress', s.identity, s.ips[0]!, proto, p)
    );
  }

  /** The seed's `get_policy_for_traffic`: merged, ordered rules for a record with these tags. */
  getPolicyForTags(tags: Tags): ResolvedPolicy {
    return resolvePolicyForTags(
      tags,
      [...this.policies.values()],
      [...this.partitions.values()].map((p) => p.doc),
    );
  }

  /**
   * Rules that can never decide (design.md §2.1), for `apply` to warn of: see
   * src/engine/rule-warnings.ts for what is reported and what it guarantees.
   */
  ruleWarnings(opts: RuleWarningOptions = {}): RuleWarning[] {
    return ruleWarnings(
      {
        policies: this.policies.values(),
        partitionSelector: (name) => this.partitions.get(name)?.entry.text,
        partitionMembers: (name) => this.partitions.get(name)?.entry.members,
      },
      opts,
    );
  }

  /**
   * `ruleWarnings` of the model a batch would produce, without applying it (an apply
   * plans under the write lock; a fork would reload the model). Shadowing only:
   * `unused` needs the batch's records evaluated, which a fork does.
   */
  ruleWarningsAfter(
    changes: readonly Change[],
    opts: { policies?: ReadonlySet<string> } = {},
  ): RuleWarning[] {
    const scratch = new Cache();
    const policies = new Map(this.policies);
    const partitions = new Map([...this.partitions].map(([n, p]) => [n, p.entry.text]));
    for (const c of changes) {
      const kind = c.op === 'put' ? c.doc.kind : c.kind;
      const name = c.op === 'put' ? c.doc.name : c.name;
      if (kind === 'Policy') policies.delete(name);
      if (kind === 'Partition') partitions.delete(name);
      if (c.op !== 'put') continue;
      if (c.doc.kind === 'Policy') policies.set(name, compilePolicy(c.doc, scratch));
      if (c.doc.kind === 'Partition') partitions.set(name, canonicalSelector(c.doc.selector));
    }
    return ruleWarnings(
      {
        policies: policies.values(),
        partitionSelector: (name) => partitions.get(name),
        partitionMembers: () => undefined,
      },
      opts,
    );
  }

  /** Everything one host's PEP needs (design.md §3–§4). O(records): for snapshots. */
  hostState(host: string, revision: number): HostState {
    const ctx = this.hostContext();
    return buildHostState(host, revision, this.index(ctx), ctx);
  }

  /**
   * An attached record's wire form as a host delta lists it: its local form plus the
   * host that runs it (undefined: no such record, or not attached to an instance on a
   * host). O(1), read from the host index: what a delta feed reads per changed record.
   *
   * @example
   *   engine.attachedRecord('web-1')
   *   // { name: 'web-1', identity: 260, ips: ['10.0.0.5'], mac: '…', subnet: 'net',
   *   //   host: 'pep-1', cidr: '10.0.0.0/24', instance: 'vm-1' }
   */
  attachedRecord(name: string): DeltaRecord | undefined {
    const a = this.index().record(name)?.attached;
    if (!a) return undefined;
    const { cidr, instance, netns } = a.local;
    return { ...a.remote, cidr, instance, ...(netns !== undefined ? { netns } : {}) };
  }

  /** A record's ipcache entries, as every host state lists them (none: no such record). */
  ipcacheOf(name: string): readonly IpcacheEntry[] {
    return this.index().record(name)?.ipcache ?? [];
  }

  /**
   * The sides and defaults of an identity as the state of any host holding one of its
   * records lists them (the same on every such host), without building a host state.
   */
  identityState(id: number): { sides: SideState[]; defaults: DefaultState } {
    const ctx = this.hostContext();
    return { sides: identitySides(id, this.index(ctx), ctx), defaults: identityDefaults(id, ctx) };
  }

  private index(ctx: HostStateContext = this.hostContext()): HostIndex {
    return (this.hostIndex ??= buildHostIndex(ctx));
  }

  private hostContext(): HostStateContext {
    return {
      records: this.records,
      instanceHost: (name) => this.model.get('Instance', name)?.host,
      instanceNetns: (name) => this.model.get('Instance', name)?.netns,
      subnet: (name) => this.model.get('Subnet', name),
      side: (id, dir) => this.side(id, dir),
      routeSide: (id) => this.routeSide(id),
      steering: () => steerTable(this.classes),
      steerClass: (via) => this.classes.get(via),
      identity: (id) => this.ids.get(id),
      identities: () => this.ids.values(),
      partitionMembers: (name) => this.partitions.get(name)?.entry.members,
      pairDefault: (a, b) => this.pairDefaultOf(a, b).verdict,
      settings: this.settings,
    };
  }

  /**
   * Hosts a delta concerns: every host when addresses or identities moved (each PEP
   * holds the whole ipcache), else the hosts running the affected identities.
   */
  hostsOf(delta: EngineDelta): Set<string> {
    if (
      delta.ipcacheUpsert.length ||
      delta.ipcacheRemove.length ||
      delta.identitiesReleased.length
    ) {
      const all = new Set<string>(delta.hosts);
      for (const inst of this.model.docs.Instance.values())
        if (inst.kind === 'Instance') all.add(inst.host);
      return all;
    }
    const ids = new Set<number>([...delta.sides.map((s) => s.identity), ...delta.defaults]);
    const out = new Set<string>(delta.hosts);
    // Through the identities' record sets: O(affected records), not O(records).
    const names = new Set<string>(delta.records);
    for (const id of ids) for (const n of this.ids.get(id)?.records ?? []) names.add(n);
    for (const name of names) {
      const r = this.records.get(name);
      const h =
        r?.doc.instance === undefined
          ? undefined
          : this.model.get('Instance', r.doc.instance)?.host;
      if (h !== undefined) out.add(h);
    }
    return out;
  }

  // ---------------------------------------------------------------- verdict internals

  private readonly memberTest = (rule: CompiledRule, peer: number): boolean => {
    if (rule.peer.kind === 'selector') return rule.peer.entry.members.has(peer);
    if (rule.peer.kind === 'partition')
      return this.partitions.get(rule.peer.name)?.entry.members.has(peer) ?? false;
    return rule.peer.kind === 'any';
  };

  /**
   * The index (into pairTables/pairCidr) of an identity pair's final verdict table:
   * both sides and defaults folded in, value 1 = allow, CIDR rules left out (pairCidr
   * says whether a side has any). Each apply forgets the pairs it may have changed
   * (forgetStalePairs); bounded in size.
   */
  private pairIndex(src: number, dst: number): number {
    let at = this.pairCache.get(src, dst);
    if (at < 0) {
      at = this.buildPairTable(src, dst);
      this.pairCache.set(src, dst, at);
    }
    return at;
  }

  /** The interned index of the pair's identity-only table. */
  private buildPairTable(src: number, dst: number): number {
    const cidr =
      this.side(src, 'egress').cidrTable !== undefined ||
      this.side(dst, 'ingress').cidrTable !== undefined;
    const rows: number[][] = PROTO_NAMES.map(() => []);
    // Endpoints without addresses: flowTable leaves every CIDR rule out.
    for (const seg of this.flowTable({ identity: src }, { identity: dst })) {
      rows[PROTO_INDEX[seg.proto]]!.push(seg.lo, seg.hi, seg.verdict === 'allow' ? 1 : 0);
    }
    const sig = (cidr ? 'c' : '') + rows.map((r) => r.join(',')).join('|');
    let at = this.pairIntern.get(sig);
    if (at === undefined) {
      // Forgotten pairs leave their tables behind: bound them (the pair is cached after this).
      if (this.pairTables.length >= PAIR_TABLE_LIMIT) this.clearPairs();
      at = this.pairTables.push(new PortTable(rows.map((r) => Int32Array.from(r)))) - 1;
      this.pairCidr.push(cidr);
      this.pairIntern.set(sig, at);
    }
    return at;
  }

  /**
   * Whether some CIDR peer of the model covers the record's primary address (the one
   * the fast path judges with), cached on the record until the next policy change.
   * Records are replaced, never mutated, when their addresses change.
   */
  private nearCidr(rec: RecordState): boolean {
    if (rec.cidrEpoch !== this.cidrEpoch) {
      rec.nearCidr = rec.ips.length > 0 && this.cidrPeers().has(rec.ips[0]!);
      rec.cidrEpoch = this.cidrEpoch;
    }
    return rec.nearCidr!;
  }

  /** Every address any CIDR peer of any policy matches (exceptions already left out). */
  private cidrPeers(): AddressSet {
    if (this.cidrSet?.epoch !== this.cidrEpoch) {
      const ranges: AddressRange[] = [];
      for (const p of this.policies.values())
        for (const r of p.rules) if (r.peer.kind === 'cidr') ranges.push(...r.peer.ranges);
      this.cidrSet = { epoch: this.cidrEpoch, set: new AddressSet(ranges) };
    }
    return this.cidrSet.set;
  }

  /**
   * After a batch: forgets the cached pairs of the identities marked stale (O(1) each,
   * see PairCache.forget), or every pair when the batch invalidated broadly. Interned
   * tables of forgotten pairs stay (they are values, keyed by content) until
   * PAIR_TABLE_LIMIT clears everything.
   */
  private forgetStalePairs(): void {
    const stale = this.stalePairIds;
    if (this.allPairsStale) this.clearPairs();
    else for (const id of stale) this.pairCache.forget(id);
    stale.clear();
    this.allPairsStale = false;
  }

  private clearPairs(): void {
    this.pairCache.clear();
    this.pairTables = [];
    this.pairCidr = [];
    this.pairIntern.clear();
  }

  private sideAllowsAt(
    side: ResolvedSide,
    peer: { identity: number; ip?: Ip },
    proto: number,
    port: number,
  ): boolean {
    const pos = side.decide(peer.identity, peer.ip?.family ?? 4, peer.ip?.value, proto, port);
    if (pos >= 0) return side.rules[pos]!.action !== 'deny';
    return this.cachedDefault(side.identity, peer.identity) === 'allow';
  }

  private sideAllows(
    local: number,
    dir: Direction,
    peer: number,
    peerIp: Ip,
    proto: number,
    port: number,
  ): boolean {
    const side = this.side(local, dir);
    const pos = side.decide(peer, peerIp.family, peerIp.value, proto, port);
    if (pos >= 0) return side.rules[pos]!.action !== 'deny';
    return this.cachedDefault(local, peer) === 'allow';
  }

  private side(id: number, dir: Direction): ResolvedSide {
    const k = sideKey(id, dir);
    let s = this.sides.get(k);
    if (s === undefined) {
      s = this.buildSide(id, dir);
      this.sides.set(k, s);
    }
    return s;
  }

  private buildSide(id: number, dir: Direction): ResolvedSide {
    const info = this.ids.get(id);
    const rules: CompiledRule[] = [];
    const audit: CompiledRule[] = [];
    if (info) {
      for (const e of this.cache.candidates(info.tags)) {
        const users = this.appliesUsers.get(e);
        if (!users || !e.members.has(id)) continue;
        for (const name of users) {
          for (const r of this.policies.get(name)!.rules) {
            if (r.direction !== dir) continue;
            (r.mode === 'audit' ? audit : rules).push(r);
          }
        }
      }
    }
    rules.sort(comparePrecedence);
    audit.sort(comparePrecedence);
    return new ResolvedSide(id, dir, rules, audit, (r) =>
      r.peer.kind === 'selector'
        ? r.peer.entry.members
        : r.peer.kind === 'partition'
          ? this.partitions.get(r.peer.name)?.entry.members
          : undefined,
    );
  }

  /** The routes of the enforce-mode policies that apply to `id`, resolved. */
  private routeSide(id: number): ResolvedSide {
    // Most models route nothing: one shared empty side, no per-identity cache.
    if (this.classes.size === 0) return (this.noRoutes ??= buildRouteSide(0, [], () => undefined));
    let s = this.routeSides.get(id);
    if (s === undefined) {
      const info = this.ids.get(id);
      const routes: CompiledRoute[] = [];
      if (info) {
        for (const e of this.cache.candidates(info.tags)) {
          const users = this.appliesUsers.get(e);
          if (!users || !e.members.has(id)) continue;
          for (const name of users) routes.push(...this.policies.get(name)!.routes);
        }
      }
      s = buildRouteSide(id, routes, (r) =>
        r.peer.kind === 'selector'
          ? r.peer.entry.members
          : r.peer.kind === 'partition'
            ? this.partitions.get(r.peer.name)?.entry.members
            : undefined,
      );
      this.routeSides.set(id, s);
    }
    return s;
  }

  /**
   * Recomputes the steer classes; when they changed, the route entries of every
   * identity some route applies to change with them (their egress sides).
   */
  private refreshSteerClasses(d: DeltaBuilder): void {
    const next = steerClasses(this.policies.values());
    const same =
      next.size === this.classes.size && [...next].every(([n, c]) => this.classes.get(n) === c);
    if (same) return;
    this.classes = next;
    d.steering = true;
    for (const p of this.policies.values())
      if (p.routes.length > 0)
        for (const id of p.appliesTo.members) {
          this.routeSides.delete(id);
          // Routes never change a verdict; marked anyway, as everything whose side changes.
          this.stalePairIds.add(id);
          d.side(id, 'egress');
        }
  }

  private cachedDefault(a: number, b: number): 'allow' | 'deny' {
    const k = a * 65536 + b;
    let v = this.defaultsCache.get(k);
    if (v === undefined) {
      v = this.pairDefaultOf(
        this.ids.get(a),
        b === IDENTITY_WORLD ? undefined : this.ids.get(b),
      ).verdict;
      this.defaultsCache.set(k, v);
    }
    return v;
  }

  /** §2.2: the default of a flow between two endpoints (undefined = outside every record). */
  private pairDefaultOf(a: IdentityInfo | undefined, b: IdentityInfo | undefined): PairDefault {
    return pairDefault(
      a?.partitions ?? [],
      b?.partitions ?? [],
      this.intraOf,
      this.settings.defaults,
    );
  }

  /** A partition's `intra` (bound once: the per-pair defaults call it often). */
  private readonly intraOf = (name: string): IntraDefault | undefined =>
    this.partitions.get(name)?.doc.intra;

  private endpoint(text: string, field: 'src' | 'dst'): Endpoint {
    const rec = this.records.get(text);
    if (rec)
      return {
        record: rec,
        info: this.ids.get(rec.identity),
        identity: rec.identity,
        ip: rec.ips[0]!,
      };
    const ip = parseIp(text);
    if (!ip) {
      throw new VnpError(
        'VNP_ERR_UNKNOWN_ENDPOINT',
        `${field}: "${text}" is neither an interface record nor an IP address`,
        { field, expected: 'a record name or an IP address' },
      );
    }
    const owner = this.model.addrOwner.get(ipKey(ip));
    const r = owner === undefined ? undefined : this.records.get(owner);
    if (r) return { record: r, info: this.ids.get(r.identity), identity: r.identity, ip };
    return { identity: IDENTITY_WORLD, ip };
  }

  private endpointInfo(e: Endpoint): EndpointInfo {
    const addr = e.ip ? formatAddress(e.ip, e.record) : undefined;
    return {
      ...(e.record ? { record: e.record.name } : {}),
      ...(addr !== undefined ? { address: addr } : {}),
      identity: e.identity,
      partitions: e.info?.partitions ?? [],
    };
  }

  // ---------------------------------------------------------------- registration

  private registerPolicy(doc: Policy): CompiledPolicy {
    const p = compilePolicy(doc, this.cache);
    this.policies.set(doc.name, p);
    this.cidrEpoch++;
    addUser(this.appliesUsers, p.appliesTo, doc.name);
    for (const r of [...p.rules, ...p.routes])
      if (r.peer.kind === 'selector') addUser(this.peerUsers, r.peer.entry, doc.name);
    for (const name of p.partitionPeers) addUser(this.partitionPeerUsers, name, doc.name);
    return p;
  }

  /** Unregisters a policy; returns the identities whose sides it touched. */
  private unregisterPolicy(name: string): number[] {
    const p = this.policies.get(name);
    if (!p) return [];
    const members = [...p.appliesTo.members];
    this.policies.delete(name);
    this.cidrEpoch++;
    removeUser(this.appliesUsers, p.appliesTo, name);
    for (const r of [...p.rules, ...p.routes])
      if (r.peer.kind === 'selector') removeUser(this.peerUsers, r.peer.entry, name);
    for (const part of p.partitionPeers) removeUser(this.partitionPeerUsers, part, name);
    releasePolicy(p, this.cache);
    return members;
  }

  private registerPartition(doc: Partition): void {
    const entry = this.cache.retain(doc.selector);
    this.partitions.set(doc.name, { doc, entry });
    addUser(this.partitionUsers, entry, doc.name);
  }

  /** Unregisters a partition; returns its members (their defaults change). */
  private unregisterPartition(name: string): number[] {
    const p = this.partitions.get(name);
    if (!p) return [];
    const members = [...p.entry.members];
    this.partitions.delete(name);
    removeUser(this.partitionUsers, p.entry, name);
    this.cache.release(p.entry);
    return members;
  }

  /** After a partition was put or deleted: membership, defaults and partition peers. */
  private partitionChanged(name: string, d: DeltaBuilder): void {
    const p = this.partitions.get(name);
    if (p) for (const id of p.entry.members) this.partitionMembershipChanged(id, d);
    for (const pol of this.partitionPeerUsers.get(name) ?? []) {
      const cp = this.policies.get(pol);
      if (cp) for (const id of cp.appliesTo.members) this.dropSides(id, d);
    }
    this.defaultsCache.clear();
  }

  private partitionMembershipChanged(id: number, d: DeltaBuilder): void {
    const info = this.ids.get(id);
    if (!info) return;
    const before = info.partitions;
    // Its default with every peer may change (the pair default reads both endpoints' partitions).
    this.stalePairIds.add(id);
    info.partitions = [...this.partitions.values()]
      .filter((p) => p.entry.members.has(id))
      .map((p) => p.doc.name)
      .sort();
    d.defaults.add(id);
    // Every member of these partitions gains or loses `id` as a partition mate; they
    // are listed once per batch in finishDefaults (listing them here is quadratic).
    for (const name of before) d.dirtyPartitions.add(name);
    for (const name of info.partitions) d.dirtyPartitions.add(name);
    // An identity in no partition lists every partitioned peer whose default differs
    // (unpartitioned vs crossPartition): joining or leaving "partitioned" changes them all.
    if ((before.length === 0) !== (info.partitions.length === 0)) d.partitionedChanged = true;
    this.defaultsCache.clear();
  }

  /** Adds the members of every partition whose membership changed to the defaults delta. */
  private finishDefaults(d: DeltaBuilder): void {
    const s = this.settings.defaults;
    if (d.partitionedChanged && s.unpartitioned !== s.crossPartition) {
      for (const info of this.ids.values())
        if (info.partitions.length === 0) d.defaults.add(info.id);
    }
    for (const name of d.dirtyPartitions)
      for (const m of this.partitions.get(name)?.entry.members ?? []) d.defaults.add(m);
  }

  // ---------------------------------------------------------------- identities

  private rederive(name: string, now: number, d: DeltaBuilder, newIds: number[]): void {
    const doc = this.model.get('Interface', name);
    const rec = this.records.get(name);
    d.record(name);
    if (!doc) {
      if (rec) {
        for (const ip of rec.ips)
          if (!this.model.addrOwner.has(ipKey(ip))) d.ipRemove(ipKey(ip), ip);
        this.alloc.release(rec.identity, now);
        this.ids.get(rec.identity)?.records.delete(name);
        this.records.delete(name);
      }
      return;
    }
    const key = this.cache.projectedKey(doc.tags);
    let identity = rec?.identity;
    if (rec === undefined || this.ids.get(rec.identity)?.key !== key) {
      identity = this.acquire(key, doc.tags, name, newIds, d);
      if (rec) {
        this.alloc.release(rec.identity, now);
        this.ids.get(rec.identity)?.records.delete(name);
      }
    }
    const ips = parsedIps(doc.ips);
    if (rec) this.noteAddressChanges(rec, ips, identity!, d);
    else for (const ip of ips) d.ipUpsert(ip, identity!);
    this.records.set(name, {
      name,
      doc: doc as RecordState['doc'],
      ips,
      identity: identity!,
      cidrEpoch: -1,
      nearCidr: false,
    });
  }

  /** The ipcache changes of a re-derived record (a new record upserts all its addresses). */
  private noteAddressChanges(rec: RecordState, ips: Ip[], identity: number, d: DeltaBuilder): void {
    const keep = new Set(ips.map(ipKey));
    // An address this record gave up may already belong to another record of the batch.
    for (const ip of rec.ips)
      if (!keep.has(ipKey(ip)) && !this.model.addrOwner.has(ipKey(ip))) d.ipRemove(ipKey(ip), ip);
    const changedId = rec.identity !== identity;
    const had = new Set(rec.ips.map(ipKey));
    for (const ip of ips) if (changedId || !had.has(ipKey(ip))) d.ipUpsert(ip, identity);
  }

  /** The relevant key set changed: re-key identities in place where their records agree, else re-derive. */
  private rederiveAll(touched: Set<string>, now: number, d: DeltaBuilder, newIds: number[]): void {
    // Identities may be re-keyed in place (same number, other tags): forget every pair.
    this.allPairsStale = true;
    const byIdentity = new Map<number, string[]>();
    for (const r of this.records.values())
      if (!touched.has(r.name)) pushTo(byIdentity, r.identity, r.name);
    const perRecord: string[] = [...touched];
    const recordKeys = new Map<string, string>();
    for (const [id, names] of byIdentity) {
      const keys = new Map<string, Tags>();
      for (const n of names) {
        const tags = this.records.get(n)!.doc.tags;
        const key = this.cache.projectedKey(tags);
        if (!keys.has(key)) keys.set(key, tags);
        recordKeys.set(n, key);
      }
      const info = this.ids.get(id)!;
      // The largest group (ties: smallest key) keeps the number; the others re-derive.
      const groups = [...keys.entries()].map(([key, tags]) => ({
        key,
        tags,
        n: names.filter((x) => recordKeys.get(x) === key).length,
      }));
      groups.sort((a, b) => b.n - a.n || (a.key < b.key ? -1 : 1));
      const main = groups[0]!;
      if (main.key !== info.key && this.alloc.idOf(main.key) === undefined) {
        const tags = this.cache.project(main.tags);
        this.alloc.rekey(id, main.key);
        this.ids.retag(info, main.key, tags);
        d.identitiesAdded.set(id, tags);
      }
      for (const n of names) if (recordKeys.get(n) !== info.key) perRecord.push(n);
    }
    for (const n of perRecord.sort()) this.rederive(n, now, d, newIds);
  }

  /** The identity for `key` (a record's tags `recordTags` projected), one more record on it. */
  private acquire(
    key: string,
    recordTags: Tags,
    record: string,
    newIds: number[],
    d: DeltaBuilder,
  ): number {
    const { id } = this.alloc.retain(key);
    let info = this.ids.get(id);
    if (!info) {
      const tags = this.cache.project(recordTags);
      info = { id, key, tags, records: new Set(), partitions: [] };
      this.ids.add(info);
      // A reused number must not find pairs of its previous life.
      this.stalePairIds.add(id);
      newIds.push(id);
      d.identitiesAdded.set(id, tags);
    }
    info.records.add(record);
    return id;
  }

  /** New identities against the already-evaluated selectors (through guard indexes). */
  private evaluateNewIdentities(newIds: number[], d: DeltaBuilder): void {
    for (const id of newIds) {
      const info = this.ids.get(id)!;
      let partitionsChanged = false;
      for (const e of this.cache.candidates(info.tags)) {
        if (e.pending || !e.matches(info.tags)) continue;
        e.members.add(id);
        this.membershipChanged(e, id, d);
        if (this.partitionUsers.has(e)) partitionsChanged = true;
      }
      if (partitionsChanged) this.partitionMembershipChanged(id, d);
    }
  }

  /** New selectors against every identity their guard admits. */
  private evaluatePendingSelectors(): void {
    for (const e of this.cache.all()) {
      if (!e.pending) continue;
      e.pending = false;
      for (const id of this.ids.candidates(e.guard)) {
        const info = this.ids.get(id)!;
        if (e.matches(info.tags)) e.members.add(id);
      }
    }
  }

  /** A peer identity joined or left selector `e`: drop its table in every side using `e`. */
  private membershipChanged(e: SelectorEntry, id: number, d: DeltaBuilder): void {
    // As a peer, `id` now matches other rules: every pair with `id` on either end.
    this.stalePairIds.add(id);
    if (this.appliesUsers.has(e)) this.dropSides(id, d);
    for (const pol of this.peerUsers.get(e) ?? []) this.dropPeerIn(pol, id, d);
    for (const part of this.partitionUsers.get(e) ?? [])
      for (const pol of this.partitionPeerUsers.get(part) ?? []) this.dropPeerIn(pol, id, d);
  }

  private dropPeerIn(policy: string, peer: number, d: DeltaBuilder): void {
    const p = this.policies.get(policy);
    if (!p) return;
    const dirs = new Set(p.rules.map((r) => r.direction));
    if (p.routes.length > 0) dirs.add('egress');
    for (const local of p.appliesTo.members) {
      this.routeSides.get(local)?.dropPeer(peer);
      for (const dir of dirs) {
        this.sides.get(sideKey(local, dir))?.dropPeer(peer);
        d.side(local, dir);
      }
    }
  }

  private dropSides(id: number, d: DeltaBuilder): void {
    this.stalePairIds.add(id);
    this.routeSides.delete(id);
    for (const dir of ['egress', 'ingress'] as const) {
      this.sides.delete(sideKey(id, dir));
      d.side(id, dir);
    }
  }

  /** An identity's grace period ended: forget it everywhere. */
  private releaseIdentity(id: number, d: DeltaBuilder): void {
    const info = this.ids.get(id);
    if (!info) return;
    for (const e of this.cache.candidates(info.tags)) {
      if (!e.members.delete(id)) continue;
      this.membershipChanged(e, id, d);
    }
    this.ids.remove(id);
    this.stalePairIds.add(id);
    for (const dir of ['egress', 'ingress'] as const) this.sides.delete(sideKey(id, dir));
    this.routeSides.delete(id);
    this.defaultsCache.clear();
    d.identitiesReleased.push(id);
  }

  private noteHostChange(
    prev: HeldDocument | undefined,
    next: Document | undefined,
    d: DeltaBuilder,
  ): void {
    if (prev?.kind === 'Instance') d.hosts.add(prev.host);
    if (next?.kind === 'Instance') d.hosts.add(next.host);
  }
}

function policiesChanged(changes: readonly Change[]): boolean {
  return changes.some((c) => (c.op === 'put' ? c.doc.kind : c.kind) === 'Policy');
}

function flowPorts(req: CheckRequest): { proto: number; port: number } {
  const protocol = req.protocol ?? 'tcp';
  if (!PROTOCOLS.includes(protocol)) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `protocol: expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`,
      { field: 'protocol', expected: PROTOCOLS.join('|') },
    );
  }
  if (protocol === 'icmp') return { proto: PROTO_INDEX.icmp, port: 0 };
  const port = req.port;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `port: expected an integer 1..65535 for ${protocol}${port === undefined ? '' : `, got ${JSON.stringify(port)}`}`,
      {
        field: 'port',
        expected: 'an integer 1..65535',
      },
    );
  }
  return { proto: PROTO_INDEX[protocol], port };
}

function flowReason(
  verdict: 'allow' | 'deny',
  egress: CheckResult['egress'],
  ingress: CheckResult['ingress'],
): string {
  const why = (side: string, s: CheckResult['egress']) =>
    s.rule
      ? `${side} ${s.verdict === 'deny' ? 'denied' : s.logged ? 'logged' : 'allowed'} by policy "${s.rule.policy}" ${s.rule.rule}`
      : `${side} ${s.verdict === 'deny' ? 'denied' : 'allowed'} by default`;
  if (verdict === 'allow') return `allowed: ${why('egress', egress)}; ${why('ingress', ingress)}`;
  const denying = [
    egress.verdict === 'deny' ? why('egress', egress) : '',
    ingress.verdict === 'deny' ? why('ingress', ingress) : '',
  ].filter(Boolean);
  return `denied: ${denying.join('; ')}`;
}

function formatAddress(ip: Ip, _rec: RecordState | undefined): string {
  return formatIp(ip);
}

function addUser<K>(map: Map<K, Set<string>>, k: K, user: string): void {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(user);
}

function removeUser<K>(map: Map<K, Set<string>>, k: K, user: string): void {
  const s = map.get(k);
  if (!s) return;
  s.delete(user);
  if (s.size === 0) map.delete(k);
}

/** A validated record's addresses (no canonical texts: only the values are kept). */
function parsedIps(texts: readonly string[]): Ip[] {
  const out: Ip[] = [];
  for (let i = 0; i < texts.length; i++) out.push(parseIp(texts[i]!)!);
  return out;
}

function pushTo<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const a = map.get(k);
  if (a) a.push(v);
  else map.set(k, [v]);
}
