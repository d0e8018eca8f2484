/**
 * The apply facet: one batch of changes into the shared state (design.md §1–§3).
 *
 * Pipeline of one batch:
 *   1. validate the whole batch against the state it would produce (throws, changes nothing);
 *   2. update documents; (un)register policies and partitions in the selector cache;
 *   3. derive identities of the touched records (all records only when the set of
 *      identity-relevant keys changed);
 *   4. evaluate new identities against existing selectors and new selectors against all
 *      identities — through guard indexes, not the full cross product;
 *   5. turn membership changes into invalidations (./invalidation.ts). The caller then
 *      has the pair cache forget the identities marked stale.
 */
import type { Document, Kind, Partition, Policy, Settings } from '../../model/types.js';
import { DEFAULT_SETTINGS } from '../../model/types.js';
import { checkCompilable } from '../compile/compilable.js';
import type { CompiledPolicy } from '../compile/compiled-rule.js';
import type { HeldDocument } from '../state/document-index.js';
import type { EngineState } from '../state/engine-state.js';
import type { Change, EngineDelta } from '../types.js';
import { DeltaBuilder } from './delta-builder.js';
import {
  evaluateNewIdentities,
  evaluatePendingSelectors,
  releaseIdentity,
  rederive,
  rederiveAll,
} from './identities.js';
import {
  dropSides,
  finishDefaults,
  partitionChanged,
  partitionMembershipChanged,
  refreshSteerClasses,
} from './invalidation.js';
import {
  registerPartition,
  registerPolicy,
  unregisterPartition,
  unregisterPolicy,
} from './registration.js';

/** Throws the first problem of the batch (references, addresses, compilability); changes nothing. */
export function validateBatch(state: EngineState, changes: readonly Change[]): void {
  for (const c of changes) if (c.op === 'put') checkCompilable(c.doc);
  state.documents.validate(changes);
}

/** What the document updates of a batch leave for the derivation steps. */
interface BatchEffects {
  /** Interface records to re-derive. */
  touched: Set<string>;
  /** Members of removed or replaced policies (their sides lose rules). */
  droppedAppliesMembers: number[];
  newPolicies: CompiledPolicy[];
  changedPartitions: Set<string>;
  /** Members of removed or replaced partitions (their defaults change). */
  partitionOldMembers: number[];
  settingsChanged: boolean;
  policiesChanged: boolean;
}

/**
 * Validates, then applies a batch atomically; returns what changed for PEPs. A quiet
 * batch (a load) records no per-record changes and marks every pair stale.
 */
export function applyBatch(
  state: EngineState,
  changes: readonly Change[],
  now: number,
  quiet: boolean,
): EngineDelta {
  validateBatch(state, changes);
  state.lastNow = now;
  const d = new DeltaBuilder(quiet);
  const fx = updateDocuments(state, changes, d);
  if (fx.policiesChanged) refreshSteerClasses(state, d);
  const newIds: number[] = [];
  if (state.cache.takeKeysChanged()) rederiveAll(state, fx.touched, now, d, newIds);
  else for (const name of [...fx.touched].sort()) rederive(state, name, now, d, newIds);
  evaluateNewIdentities(state, newIds, d);
  evaluatePendingSelectors(state);
  for (const id of state.alloc.sweep(now)) releaseIdentity(state, id, d);
  for (const id of fx.droppedAppliesMembers) dropSides(state, id, d);
  for (const p of fx.newPolicies) for (const id of p.appliesTo.members) dropSides(state, id, d);
  for (const id of fx.partitionOldMembers) partitionMembershipChanged(state, id, d);
  for (const name of fx.changedPartitions) partitionChanged(state, name, d);
  if (fx.settingsChanged) {
    state.defaultsCache.clear();
    for (const id of state.ids.ids()) d.defaults.add(id);
  }
  finishDefaults(state, d);
  // Defaults of whole groups changed (settings, a partition's selector or intra) or
  // identities were re-keyed in place: no short list of stale identities.
  if (quiet || fx.settingsChanged || fx.changedPartitions.size > 0) state.allPairsStale = true;
  return d.build();
}

/** Step 2: documents in, policies and partitions (un)registered. */
function updateDocuments(
  state: EngineState,
  changes: readonly Change[],
  d: DeltaBuilder,
): BatchEffects {
  const fx: BatchEffects = {
    touched: new Set(),
    droppedAppliesMembers: [],
    newPolicies: [],
    changedPartitions: new Set(),
    partitionOldMembers: [],
    settingsChanged: false,
    policiesChanged: false,
  };
  for (const c of changes) {
    const kind: Kind = c.op === 'put' ? c.doc.kind : c.kind;
    const name = c.op === 'put' ? c.doc.name : c.name;
    const prev = c.op === 'put' ? state.documents.put(c.doc) : state.documents.remove(kind, name);
    const next = c.op === 'put' ? c.doc : undefined;
    switch (kind) {
      case 'Interface':
        fx.touched.add(name);
        break;
      case 'Instance':
      case 'Subnet': {
        const index = kind === 'Instance' ? state.documents.byInstance : state.documents.bySubnet;
        for (const r of index.get(name) ?? []) d.record(r);
        if (kind === 'Instance') noteHostChange(prev, next, d);
        break;
      }
      case 'Policy':
        fx.policiesChanged = true;
        if (prev) fx.droppedAppliesMembers.push(...unregisterPolicy(state, name));
        if (next) fx.newPolicies.push(registerPolicy(state, next as Policy));
        break;
      case 'Partition':
        if (prev) fx.partitionOldMembers.push(...unregisterPartition(state, name));
        if (next) registerPartition(state, next as Partition);
        fx.changedPartitions.add(name);
        break;
      case 'Settings':
        state.settings = (next as Settings | undefined) ?? DEFAULT_SETTINGS;
        fx.settingsChanged = true;
        break;
      case 'Reaction':
        break;
    }
  }
  return fx;
}

function noteHostChange(
  prev: HeldDocument | undefined,
  next: Document | undefined,
  d: DeltaBuilder,
): void {
  if (prev?.kind === 'Instance') d.hosts.add(prev.host);
  if (next?.kind === 'Instance') d.hosts.add(next.host);
}
