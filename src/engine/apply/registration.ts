/**
 * Policies and partitions in and out of the selector cache, with the reverse indexes
 * (selector entry → users) that turn a membership change into the sides it affects.
 */
import type { Partition, Policy } from '../../model/types.js';
import { compilePolicy, releasePolicy, type CompiledPolicy } from '../compile/compiled-rule.js';
import type { EngineState } from '../state/engine-state.js';

export function registerPolicy(state: EngineState, doc: Policy): CompiledPolicy {
  const p = compilePolicy(doc, state.cache);
  state.policies.set(doc.name, p);
  state.cidrEpoch++;
  addUser(state.appliesUsers, p.appliesTo, doc.name);
  for (const r of [...p.rules, ...p.routes])
    if (r.peer.kind === 'selector') addUser(state.peerUsers, r.peer.entry, doc.name);
  for (const name of p.partitionPeers) addUser(state.partitionPeerUsers, name, doc.name);
  return p;
}

/** Unregisters a policy; returns the identities whose sides it touched. */
export function unregisterPolicy(state: EngineState, name: string): number[] {
  const p = state.policies.get(name);
  if (!p) return [];
  const members = [...p.appliesTo.members];
  state.policies.delete(name);
  state.cidrEpoch++;
  removeUser(state.appliesUsers, p.appliesTo, name);
  for (const r of [...p.rules, ...p.routes])
    if (r.peer.kind === 'selector') removeUser(state.peerUsers, r.peer.entry, name);
  for (const partition of p.partitionPeers) removeUser(state.partitionPeerUsers, partition, name);
  releasePolicy(p, state.cache);
  return members;
}

export function registerPartition(state: EngineState, doc: Partition): void {
  const entry = state.cache.retain(doc.selector);
  state.partitions.set(doc.name, { doc, entry });
  addUser(state.partitionUsers, entry, doc.name);
}

/** Unregisters a partition; returns its members (their defaults change). */
export function unregisterPartition(state: EngineState, name: string): number[] {
  const p = state.partitions.get(name);
  if (!p) return [];
  const members = [...p.entry.members];
  state.partitions.delete(name);
  removeUser(state.partitionUsers, p.entry, name);
  state.cache.release(p.entry);
  return members;
}

function addUser<K>(map: Map<K, Set<string>>, k: K, user: string): void {
  let users = map.get(k);
  if (!users) map.set(k, (users = new Set()));
  users.add(user);
}

function removeUser<K>(map: Map<K, Set<string>>, k: K, user: string): void {
  const users = map.get(k);
  if (!users) return;
  users.delete(user);
  if (users.size === 0) map.delete(k);
}
