/**
 * Records to identities within a batch: re-deriving touched records (or all of them
 * when the set of identity-relevant keys changed), acquiring and releasing identity
 * numbers, and evaluating new identities against selectors and new selectors against
 * identities — through guard indexes, not the full cross product.
 */
import { ipKey, parseIp, type Ip } from '../../model/net.js';
import type { Tags } from '../../model/types.js';
import { sideKey, type EngineState, type RecordState } from '../state/engine-state.js';
import type { DeltaBuilder } from './delta-builder.js';
import { membershipChanged, partitionMembershipChanged } from './invalidation.js';

/** One record re-read from its document: its identity and ipcache entries. */
export function rederive(
  state: EngineState,
  name: string,
  now: number,
  delta: DeltaBuilder,
  newIds: number[],
): void {
  const { documents, records, alloc, ids } = state;
  const doc = documents.get('Interface', name);
  const rec = records.get(name);
  delta.record(name);
  if (!doc) {
    if (rec) {
      for (const ip of rec.ips)
        if (!documents.addrOwner.has(ipKey(ip))) delta.ipRemove(ipKey(ip), ip);
      alloc.release(rec.identity, now);
      ids.get(rec.identity)?.records.delete(name);
      records.delete(name);
    }
    return;
  }
  const key = state.cache.projectedKey(doc.tags);
  let identity = rec?.identity;
  if (rec === undefined || ids.get(rec.identity)?.key !== key) {
    identity = acquire(state, key, doc.tags, name, newIds, delta);
    if (rec) {
      alloc.release(rec.identity, now);
      ids.get(rec.identity)?.records.delete(name);
    }
  }
  const ips = parsedIps(doc.ips);
  if (rec) noteAddressChanges(state, rec, ips, identity!, delta);
  else for (const ip of ips) delta.ipUpsert(ip, identity!);
  records.set(name, {
    name,
    doc: doc as RecordState['doc'],
    ips,
    identity: identity!,
    cidrEpoch: -1,
    nearCidr: false,
  });
}

/** The ipcache changes of a re-derived record (a new record upserts all its addresses). */
function noteAddressChanges(
  state: EngineState,
  rec: RecordState,
  ips: Ip[],
  identity: number,
  delta: DeltaBuilder,
): void {
  const keep = new Set(ips.map(ipKey));
  // An address this record gave up may already belong to another record of the batch.
  for (const ip of rec.ips)
    if (!keep.has(ipKey(ip)) && !state.documents.addrOwner.has(ipKey(ip)))
      delta.ipRemove(ipKey(ip), ip);
  const changedId = rec.identity !== identity;
  const had = new Set(rec.ips.map(ipKey));
  for (const ip of ips) if (changedId || !had.has(ipKey(ip))) delta.ipUpsert(ip, identity);
}

/** The relevant key set changed: re-key identities in place where their records agree, else re-derive. */
export function rederiveAll(
  state: EngineState,
  touched: Set<string>,
  now: number,
  delta: DeltaBuilder,
  newIds: number[],
): void {
  // Identities may be re-keyed in place (same number, other tags): forget every pair.
  state.allPairsStale = true;
  const byIdentity = new Map<number, string[]>();
  for (const record of state.records.values())
    if (!touched.has(record.name)) pushTo(byIdentity, record.identity, record.name);
  const perRecord: string[] = [...touched];
  for (const [id, names] of byIdentity) perRecord.push(...rekeyInPlace(state, id, names, delta));
  for (const recordName of perRecord.sort()) rederive(state, recordName, now, delta, newIds);
}

/**
 * Identity `id`'s records grouped by their new key: the largest group (ties: smallest
 * key) keeps the number, re-keyed in place; returns the records that must re-derive.
 */
function rekeyInPlace(
  state: EngineState,
  id: number,
  names: string[],
  delta: DeltaBuilder,
): string[] {
  const keys = new Map<string, Tags>();
  const recordKeys = new Map<string, string>();
  for (const recordName of names) {
    const tags = state.records.get(recordName)!.doc.tags;
    const key = state.cache.projectedKey(tags);
    if (!keys.has(key)) keys.set(key, tags);
    recordKeys.set(recordName, key);
  }
  const info = state.ids.get(id)!;
  const groups = [...keys.entries()].map(([key, tags]) => ({
    key,
    tags,
    n: names.filter((x) => recordKeys.get(x) === key).length,
  }));
  groups.sort((a, b) => b.n - a.n || (a.key < b.key ? -1 : 1));
  const main = groups[0]!;
  if (main.key !== info.key && state.alloc.idOf(main.key) === undefined) {
    const tags = state.cache.project(main.tags);
    state.alloc.rekey(id, main.key);
    state.ids.retag(info, main.key, tags);
    delta.identitiesAdded.set(id, tags);
  }
  return names.filter((recordName) => recordKeys.get(recordName) !== info.key);
}

/** The identity for `key` (a record's tags `recordTags` projected), one more record on it. */
function acquire(
  state: EngineState,
  key: string,
  recordTags: Tags,
  record: string,
  newIds: number[],
  delta: DeltaBuilder,
): number {
  const { id } = state.alloc.retain(key);
  let info = state.ids.get(id);
  if (!info) {
    const tags = state.cache.project(recordTags);
    info = { id, key, tags, records: new Set(), partitions: [] };
    state.ids.add(info);
    // A reused number must not find pairs of its previous life.
    state.stalePairIds.add(id);
    newIds.push(id);
    delta.identitiesAdded.set(id, tags);
  }
  info.records.add(record);
  return id;
}

/** New identities against the already-evaluated selectors (through guard indexes). */
export function evaluateNewIdentities(
  state: EngineState,
  newIds: number[],
  delta: DeltaBuilder,
): void {
  for (const id of newIds) {
    const info = state.ids.get(id)!;
    let partitionsChanged = false;
    for (const entry of state.cache.candidates(info.tags)) {
      if (entry.pending || !entry.matches(info.tags)) continue;
      entry.members.add(id);
      membershipChanged(state, entry, id, delta);
      if (state.partitionUsers.has(entry)) partitionsChanged = true;
    }
    if (partitionsChanged) partitionMembershipChanged(state, id, delta);
  }
}

/** New selectors against every identity their guard admits. */
export function evaluatePendingSelectors(state: EngineState): void {
  for (const entry of state.cache.all()) {
    if (!entry.pending) continue;
    entry.pending = false;
    for (const id of state.ids.candidates(entry.guard)) {
      const info = state.ids.get(id)!;
      if (entry.matches(info.tags)) entry.members.add(id);
    }
  }
}

/** An identity's grace period ended: forget it everywhere. */
export function releaseIdentity(state: EngineState, id: number, delta: DeltaBuilder): void {
  const info = state.ids.get(id);
  if (!info) return;
  for (const entry of state.cache.candidates(info.tags)) {
    if (!entry.members.delete(id)) continue;
    membershipChanged(state, entry, id, delta);
  }
  // Its partition mates (or every unpartitioned identity) listed it in their defaults.
  if (info.partitions.length > 0) partitionMembershipChanged(state, id, delta);
  state.ids.remove(id);
  state.stalePairIds.add(id);
  for (const dir of ['egress', 'ingress'] as const) state.sides.delete(sideKey(id, dir));
  state.steeringSides.delete(id);
  state.defaultsCache.clear();
  delta.identitiesReleased.push(id);
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
