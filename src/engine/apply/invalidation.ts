/**
 * What a batch invalidates, and the delta entries that go with it: a side is dropped
 * only when its own rules changed; a peer's table inside a side is dropped when that
 * peer's membership changed; the pair cache forgets the identities marked stale.
 * Everything dropped is rebuilt lazily by the verdict facet on the next lookup.
 */
import type { Direction } from '../../model/host-state.js';
import type { CompiledRule } from '../compile/compiled-rule.js';
import { steerClasses } from '../compile/steering-resolution.js';
import type { SelectorEntry } from '../identity/selector-cache.js';
import { sideKey, type EngineState } from '../state/engine-state.js';
import type { DeltaBuilder } from './delta-builder.js';

/** An identity's own rules changed: drop both its sides and its routes. */
export function dropSides(state: EngineState, id: number, delta: DeltaBuilder): void {
  state.stalePairIds.add(id);
  state.steeringSides.delete(id);
  for (const dir of ['egress', 'ingress'] as const) {
    state.sides.delete(sideKey(id, dir));
    delta.side(id, dir);
  }
}

/** A peer identity joined or left selector `e`: drop its table in every side using `e`. */
export function membershipChanged(
  state: EngineState,
  entry: SelectorEntry,
  id: number,
  delta: DeltaBuilder,
): void {
  // As a peer, `id` now matches other rules: every pair with `id` on either end.
  state.stalePairIds.add(id);
  if (state.appliesUsers.has(entry)) dropSides(state, id, delta);
  const bySelector = (r: CompiledRule): boolean =>
    r.peer.kind === 'selector' && r.peer.entry === entry;
  for (const policy of state.peerUsers.get(entry) ?? [])
    dropPeerIn(state, policy, id, delta, bySelector);
  for (const partition of state.partitionUsers.get(entry) ?? []) {
    const byPartition = (r: CompiledRule): boolean =>
      r.peer.kind === 'partition' && r.peer.name === partition;
    for (const policy of state.partitionPeerUsers.get(partition) ?? [])
      dropPeerIn(state, policy, id, delta, byPartition);
  }
}

/**
 * `peer`'s membership changed in what the rules `uses` picks name as their peer: its
 * table goes, in the sides of the policy's direction(s) that have such a rule. A
 * side with no such rule matches `peer` as before (its other rules' peers did not
 * change for it), so it is neither dropped nor listed: a policy with ingress rules
 * from `env == "dev"` and egress rules to apps no longer lists every egress side it
 * applies to when an identity joins dev (half the sides an identity-changing write
 * listed, each for nothing).
 */
function dropPeerIn(
  state: EngineState,
  policy: string,
  peer: number,
  delta: DeltaBuilder,
  uses: (rule: CompiledRule) => boolean,
): void {
  const compiled = state.policies.get(policy);
  if (!compiled) return;
  const dirs = new Set<Direction>();
  for (const r of compiled.rules) if (uses(r)) dirs.add(r.direction);
  if (compiled.routes.some(uses)) dirs.add('egress');
  for (const local of compiled.appliesTo.members) {
    state.steeringSides.get(local)?.dropPeer(peer);
    for (const dir of dirs) {
      state.sides.get(sideKey(local, dir))?.dropPeer(peer);
      delta.side(local, dir);
    }
  }
}

/** After a partition was put or deleted: membership, defaults and partition peers. */
export function partitionChanged(state: EngineState, name: string, delta: DeltaBuilder): void {
  const partition = state.partitions.get(name);
  if (partition)
    for (const id of partition.entry.members) partitionMembershipChanged(state, id, delta);
  for (const policy of state.partitionPeerUsers.get(name) ?? []) {
    const compiled = state.policies.get(policy);
    if (compiled) for (const id of compiled.appliesTo.members) dropSides(state, id, delta);
  }
  state.defaultsCache.clear();
}

/** The partitions of identity `id` may have changed: recompute them, mark its defaults. */
export function partitionMembershipChanged(
  state: EngineState,
  id: number,
  delta: DeltaBuilder,
): void {
  const info = state.ids.get(id);
  if (!info) return;
  const before = info.partitions;
  // Its default with every peer may change (the pair default reads both endpoints' partitions).
  state.stalePairIds.add(id);
  info.partitions = [...state.partitions.values()]
    .filter((compiled) => compiled.entry.members.has(id))
    .map((compiled) => compiled.doc.name)
    .sort();
  delta.defaults.add(id);
  // Every member of these partitions gains or loses `id` as a partition mate; they
  // are listed once per batch in finishDefaults (listing them here is quadratic).
  for (const name of before) delta.dirtyPartitions.add(name);
  for (const name of info.partitions) delta.dirtyPartitions.add(name);
  // An identity in no partition lists every partitioned peer whose default differs
  // (unpartitioned vs crossPartition): joining or leaving "partitioned" changes them all.
  if ((before.length === 0) !== (info.partitions.length === 0)) delta.partitionedChanged = true;
  state.defaultsCache.clear();
}

/**
 * Adds to the defaults delta the identities whose default rows (the peers listed with a
 * verdict other than their `other`) may have changed with the batch's partition moves.
 *
 * A partitioned identity lists only partition mates whose shared partitions decide
 * differently from crossPartition; when each of its partitions is *neutral* (its intra
 * default equals crossPartition), every shared set decides crossPartition, so it lists
 * nobody before and after and is left out. Identities whose own partitions changed
 * are already in the delta (partitionMembershipChanged). This keeps an identity that
 * appears in a large partition from listing every member of it.
 */
export function finishDefaults(state: EngineState, delta: DeltaBuilder): void {
  const defaults = state.settings.defaults;
  if (delta.partitionedChanged && defaults.unpartitioned !== defaults.crossPartition) {
    for (const info of state.ids.values())
      if (info.partitions.length === 0) delta.defaults.add(info.id);
  }
  if (delta.dirtyPartitions.size === 0) return;
  const neutral = (name: string) =>
    (state.partitions.get(name)?.doc.intra ?? 'allow') === defaults.crossPartition;
  // Every partition neutral (the common zero-trust setup): every member is left out, so
  // skip the walk of the dirty partitions' members (O(partition) per identity write).
  if ([...state.partitions.keys()].every(neutral)) return;
  for (const name of delta.dirtyPartitions) {
    for (const m of state.partitions.get(name)?.entry.members ?? []) {
      if (delta.defaults.has(m)) continue;
      const info = state.ids.get(m);
      if (info && info.partitions.every(neutral)) continue;
      delta.defaults.add(m);
    }
  }
}

/**
 * Recomputes the steer classes; when they changed, the route entries of every
 * identity some route applies to change with them (their egress sides).
 */
export function refreshSteerClasses(state: EngineState, delta: DeltaBuilder): void {
  const next = steerClasses(state.policies.values());
  const same =
    next.size === state.classes.size && [...next].every(([n, c]) => state.classes.get(n) === c);
  if (same) return;
  state.classes = next;
  delta.steering = true;
  for (const compiled of state.policies.values())
    if (compiled.routes.length > 0)
      for (const id of compiled.appliesTo.members) {
        state.steeringSides.delete(id);
        // Routes never change a verdict; marked anyway, as everything whose side changes.
        state.stalePairIds.add(id);
        delta.side(id, 'egress');
      }
}
