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

/**
 * The rules {@link validateBatch} enforces, as a stamp: a set of documents that passed
 * them under this stamp (the whole model at a revision) may be loaded again without
 * being checked again (docs/adr/0059-trusted-model-load.md). Change the number whenever
 * what the validation accepts changes — here, in the document index, the compilability
 * check, the selector grammar or address and port parsing; engine-validation.test.ts
 * fingerprints those sources and fails until it is looked at.
 */
export const MODEL_VALIDATION = 'engine-validation/1';

/** Throws the first problem of the batch (references, addresses, compilability); changes nothing. */
export function validateBatch(state: EngineState, changes: readonly Change[]): void {
  for (const change of changes) if (change.op === 'put') checkCompilable(change.doc);
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
 * batch (a load) records no per-record changes and marks every pair stale. `trusted`
 * (a load of documents this engine's validation already passed, see
 * {@link MODEL_VALIDATION}) skips the validation.
 */
export function applyBatch(
  state: EngineState,
  changes: readonly Change[],
  now: number,
  quiet: boolean,
  trusted = false,
): EngineDelta {
  if (!trusted) validateBatch(state, changes);
  state.lastNow = now;
  const delta = new DeltaBuilder(quiet);
  const effects = updateDocuments(state, changes, delta);
  if (effects.policiesChanged) refreshSteerClasses(state, delta);
  const newIds: number[] = [];
  if (state.cache.takeKeysChanged()) rederiveAll(state, effects.touched, now, delta, newIds);
  else for (const name of [...effects.touched].sort()) rederive(state, name, now, delta, newIds);
  evaluateNewIdentities(state, newIds, delta);
  evaluatePendingSelectors(state);
  for (const id of state.alloc.sweep(now)) releaseIdentity(state, id, delta);
  for (const id of effects.droppedAppliesMembers) dropSides(state, id, delta);
  for (const policy of effects.newPolicies)
    for (const id of policy.appliesTo.members) dropSides(state, id, delta);
  for (const id of effects.partitionOldMembers) partitionMembershipChanged(state, id, delta);
  for (const name of effects.changedPartitions) partitionChanged(state, name, delta);
  if (effects.settingsChanged) {
    state.defaultsCache.clear();
    for (const id of state.ids.ids()) delta.defaults.add(id);
  }
  finishDefaults(state, delta);
  // Defaults of whole groups changed (settings, a partition's selector or intra) or
  // identities were re-keyed in place: no short list of stale identities.
  if (quiet || effects.settingsChanged || effects.changedPartitions.size > 0)
    state.allPairsStale = true;
  return delta.build();
}

/** Step 2: documents in, policies and partitions (un)registered. */
function updateDocuments(
  state: EngineState,
  changes: readonly Change[],
  delta: DeltaBuilder,
): BatchEffects {
  const effects: BatchEffects = {
    touched: new Set(),
    droppedAppliesMembers: [],
    newPolicies: [],
    changedPartitions: new Set(),
    partitionOldMembers: [],
    settingsChanged: false,
    policiesChanged: false,
  };
  for (const change of changes) {
    const kind: Kind = change.op === 'put' ? change.doc.kind : change.kind;
    const name = change.op === 'put' ? change.doc.name : change.name;
    const prev =
      change.op === 'put' ? state.documents.put(change.doc) : state.documents.remove(kind, name);
    const next = change.op === 'put' ? change.doc : undefined;
    switch (kind) {
      case 'Interface':
        effects.touched.add(name);
        break;
      case 'Instance':
      case 'Subnet': {
        const index = kind === 'Instance' ? state.documents.byInstance : state.documents.bySubnet;
        for (const record of index.get(name) ?? []) delta.record(record);
        if (kind === 'Instance') noteHostChange(prev, next, delta);
        break;
      }
      case 'Policy':
        effects.policiesChanged = true;
        state.policyGeneration = {};
        if (prev) effects.droppedAppliesMembers.push(...unregisterPolicy(state, name));
        if (next) effects.newPolicies.push(registerPolicy(state, next as Policy));
        break;
      case 'Partition':
        state.policyGeneration = {};
        if (prev) effects.partitionOldMembers.push(...unregisterPartition(state, name));
        if (next) registerPartition(state, next as Partition);
        effects.changedPartitions.add(name);
        break;
      case 'Settings':
        state.settings = (next as Settings | undefined) ?? DEFAULT_SETTINGS;
        effects.settingsChanged = true;
        break;
      case 'Reaction':
        break;
    }
  }
  return effects;
}

function noteHostChange(
  prev: HeldDocument | undefined,
  next: Document | undefined,
  delta: DeltaBuilder,
): void {
  if (prev?.kind === 'Instance') delta.hosts.add(prev.host);
  if (next?.kind === 'Instance') delta.hosts.add(next.host);
}
