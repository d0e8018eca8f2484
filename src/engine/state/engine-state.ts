/**
 * The one state every engine facet reads and writes (apply, verdict, host view): the
 * documents, the identities and selectors, the compiled policies and partitions, and
 * the lazily built sides. Facets are modules over this object; none owns a copy.
 *
 * Invariants between batches:
 * - `records` holds exactly the Interface documents, each with the identity of its
 *   projected tags (`cache.projectedKey`);
 * - every selector entry's `members` is exact for every live identity;
 * - `sides`, `steeringSides` and `defaultsCache` hold only entries still valid (apply
 *   drops what a batch invalidates; the verdict facet rebuilds on the next lookup);
 * - `stalePairIds` and `allPairsStale` are empty/false (the batch hands them to the
 *   pair cache before it returns).
 */
import type { Direction } from '../../model/host-state.js';
import type { Ip } from '../../model/net.js';
import {
  DEFAULT_SETTINGS,
  type Interface,
  type Partition,
  type Settings,
} from '../../model/types.js';
import { rebindPolicy, type CompiledPolicy, type CompiledRule } from '../compile/compiled-rule.js';
import type { ResolvedSide } from '../compile/resolved-side.js';
import { IdentityAllocator } from '../identity/identity-allocator.js';
import { IdentityRegistry } from '../identity/identity-registry.js';
import { SelectorCache, type SelectorEntry } from '../identity/selector-cache.js';
import { DocumentIndex, type HeldDocument } from './document-index.js';

/** A record as compiled: its addresses and identity. */
export interface RecordState {
  readonly name: string;
  doc: Interface & Partial<HeldDocument>;
  ips: Ip[];
  identity: number;
  /** EngineState.cidrEpoch when `nearCidr` was computed (see PairTables.nearCidr). */
  cidrEpoch?: number;
  /** The primary address is inside some CIDR peer in the documents. */
  nearCidr?: boolean;
}

/** A partition as compiled: its document and its selector's entry (its members). */
export interface PartitionState {
  doc: Partition;
  entry: SelectorEntry;
}

/** The key of an identity's side in `sides`. */
export const sideKey = (id: number, dir: Direction): number => id * 2 + (dir === 'egress' ? 0 : 1);

export class EngineState {
  readonly documents: DocumentIndex;
  readonly cache: SelectorCache;
  readonly alloc: IdentityAllocator;
  readonly ids: IdentityRegistry;
  readonly records = new Map<string, RecordState>();
  readonly policies = new Map<string, CompiledPolicy>();
  readonly partitions = new Map<string, PartitionState>();
  settings: Settings = DEFAULT_SETTINGS;
  /** Entry → policies using it as appliesTo / as a rule peer; partitions using it. */
  readonly appliesUsers = new Map<SelectorEntry, Set<string>>();
  readonly peerUsers = new Map<SelectorEntry, Set<string>>();
  readonly partitionUsers = new Map<SelectorEntry, Set<string>>();
  /** Partition name → policies naming it as a rule peer. */
  readonly partitionPeerUsers = new Map<string, Set<string>>();
  /** sideKey(identity, direction) → its resolved rules (built lazily by the verdict facet). */
  readonly sides = new Map<number, ResolvedSide>();
  /** Identity → its resolved routes (built lazily, dropped with its egress side). */
  readonly steeringSides = new Map<number, ResolvedSide>();
  /** Via record name → steer class; rebuilt after a policy change (empty: no routes). */
  classes: Map<string, number> = new Map();
  /** (local identity · 65536 + peer identity) → the §2.2 default between them. */
  readonly defaultsCache = new Map<number, 'allow' | 'deny'>();
  /** Bumped by every policy change: CIDR peers may have changed (see PairTables.nearCidr). */
  cidrEpoch = 0;
  /** The time of the last batch (a fork loads at it). */
  lastNow = 0;
  /**
   * Identities whose cached pairs the current batch may have changed: their egress or
   * ingress side, their membership in some selector or partition, or their existence.
   * A pair's table depends only on side(src, egress), side(dst, ingress) and the pair
   * default (both endpoints' partitions, partition docs, settings), so forgetting the
   * pairs of these identities is enough unless `allPairsStale`.
   */
  readonly stalePairIds = new Set<number>();
  /** The batch changed something every pair may depend on (settings, partitions, re-keying). */
  allPairsStale = false;
  /**
   * The same object while the Policy and Partition documents stay the same: a fork
   * shares it, and a batch that puts or deletes a policy or partition replaces it. What
   * is a function of those documents alone (a tag set's resolved policy) may be memoised
   * under it across forks (src/engine/impact/behaviour-classes.ts).
   */
  policyGeneration: object = {};

  /**
   * Empty, or an independent copy of `from` taken between batches (Engine.fork): the
   * compiled state is copied as it is, not recompiled — see copyState below and
   * docs/adr/0049-engine-fork-by-copy.md.
   */
  constructor(identityGraceMs: number, from?: EngineState) {
    if (!from) {
      this.documents = new DocumentIndex();
      this.cache = new SelectorCache();
      this.alloc = new IdentityAllocator({ graceMs: identityGraceMs });
      this.ids = new IdentityRegistry();
      return;
    }
    this.documents = new DocumentIndex(from.documents);
    const { cache, entryOf } = from.cache.clone();
    this.cache = cache;
    this.alloc = from.alloc.clone();
    this.ids = from.ids.clone();
    this.policyGeneration = from.policyGeneration;
    copyState(from, this, entryOf);
  }

  /** The host an instance runs on (undefined: no such instance). */
  instanceHost(name: string): string | undefined {
    return this.documents.get('Instance', name)?.host;
  }

  /** The identities a rule's peer stands for (undefined: not a set of identities). */
  readonly peerMembers = (rule: CompiledRule): ReadonlySet<number> | undefined =>
    rule.peer.kind === 'selector'
      ? rule.peer.entry.members
      : rule.peer.kind === 'partition'
        ? this.partitions.get(rule.peer.name)?.entry.members
        : undefined;
}

/**
 * The rest of a copy: records (mutable memo fields: copied), compiled policies and
 * partitions re-pointed at the copied selector entries, the users indexes, the values
 * of the defaults cache and the steer classes. Resolved sides are left out: they hold
 * the source's member sets and per-peer tables, and the copy rebuilds them on first
 * use, as after a load. Documents, compiled rules and parsed addresses are never
 * changed in place, so both engines share them.
 */
function copyState(
  from: EngineState,
  to: EngineState,
  entryOf: ReadonlyMap<SelectorEntry, SelectorEntry>,
): void {
  for (const [name, rec] of from.records) to.records.set(name, { ...rec });
  for (const [name, p] of from.policies) to.policies.set(name, rebindPolicy(p, entryOf));
  for (const [name, p] of from.partitions)
    to.partitions.set(name, { doc: p.doc, entry: entryOf.get(p.entry)! });
  const users = (
    src: ReadonlyMap<SelectorEntry, Set<string>>,
    dst: Map<SelectorEntry, Set<string>>,
  ) => {
    for (const [entry, names] of src) dst.set(entryOf.get(entry)!, new Set(names));
  };
  users(from.appliesUsers, to.appliesUsers);
  users(from.peerUsers, to.peerUsers);
  users(from.partitionUsers, to.partitionUsers);
  for (const [name, policies] of from.partitionPeerUsers)
    to.partitionPeerUsers.set(name, new Set(policies));
  for (const [key, verdict] of from.defaultsCache) to.defaultsCache.set(key, verdict);
  to.classes = new Map(from.classes);
  to.settings = from.settings;
  to.cidrEpoch = from.cidrEpoch;
  to.lastNow = from.lastNow;
}
