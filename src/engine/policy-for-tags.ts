/**
 * `getPolicyForTags(tags)` — the seed's `get_policy_for_traffic`: the merged rule set of
 * every policy whose `appliesTo` matches a record with these tags, in precedence order,
 * each marked `shadowed` when an earlier enforce rule with the same peer covers all of
 * its traffic (it can never decide).
 */
import type { Partition, Tags } from '../model/types.js';
import { comparePrecedence, type CompiledPolicy, type CompiledRule } from './compiled-rule.js';
import type { PortSpan } from './port-table.js';
import type { AddressRange } from './address-table.js';
import type { ResolvedPolicy, ResolvedRule } from './types.js';

export function resolvePolicyForTags(
  tags: Tags,
  policies: readonly CompiledPolicy[],
  partitions: readonly Partition[],
): ResolvedPolicy {
  const applying = policies.filter((p) => p.appliesTo.matches(tags));
  const rules = applying.flatMap((p) => p.rules).sort(comparePrecedence);
  const resolve = (dir: 'ingress' | 'egress'): ResolvedRule[] => {
    const list = rules.filter((r) => r.direction === dir);
    return list.map((r, i) => toResolved(r, list.slice(0, i)));
  };
  return {
    policies: applying.map((p) => p.doc.name).sort(),
    partitions: partitions
      .filter((p) => partitionMatches(p, tags))
      .map((p) => p.name)
      .sort(),
    egress: resolve('egress'),
    ingress: resolve('ingress'),
  };
}

function partitionMatches(p: Partition, tags: Tags): boolean {
  return compileCached(p.selector)(tags);
}

import { compileSelectorCached as compileCached } from '../selector/index.js';

function toResolved(r: CompiledRule, earlier: readonly CompiledRule[]): ResolvedRule {
  const peerSpec = r.direction === 'egress' ? r.source.to : r.source.from;
  const peer =
    peerSpec &&
    (peerSpec.selector !== undefined ||
      peerSpec.partition !== undefined ||
      peerSpec.cidr !== undefined)
      ? { ...peerSpec }
      : ('any' as const);
  const shadowed =
    r.mode === 'enforce' &&
    earlier.some((e) => e.mode === 'enforce' && samePeer(e, r) && covers(e.spans, r.spans));
  return {
    ...r.ref,
    direction: r.direction,
    peer,
    ports: r.source.ports && r.source.ports.length ? [...r.source.ports] : 'all',
    shadowed,
  };
}

/** Whether every peer `b` matches is matched by `a` (any ⊇ all; CIDR sets by containment). */
function samePeer(a: CompiledRule, b: CompiledRule): boolean {
  if (a.peer.kind === 'any') return true;
  if (a.peer.kind === 'cidr' && b.peer.kind === 'cidr')
    return rangesCover(a.peer.ranges, b.peer.ranges);
  if (a.peer.kind === 'selector' && b.peer.kind === 'selector')
    return a.peer.entry.text === b.peer.entry.text;
  return a.peer.kind === 'partition' && b.peer.kind === 'partition' && a.peer.name === b.peer.name;
}

function rangesCover(outer: readonly AddressRange[], inner: readonly AddressRange[]): boolean {
  return inner.every((r) => {
    let next = r.lo;
    for (const o of outer
      .filter((x) => x.family === r.family)
      .sort((x, y) => (x.lo < y.lo ? -1 : 1))) {
      if (o.lo > next) break;
      if (o.hi >= next) next = o.hi + 1n;
      if (next > r.hi) return true;
    }
    return next > r.hi;
  });
}

/** True when the union of `outer` covers every span of `inner`. */
function covers(outer: readonly PortSpan[], inner: readonly PortSpan[]): boolean {
  return inner.every((s) => {
    let next = s.lo;
    for (const o of outer.filter((x) => x.proto === s.proto).sort((a, b) => a.lo - b.lo)) {
      if (o.lo > next) break;
      if (o.hi >= next) next = o.hi + 1;
      if (next > s.hi) return true;
    }
    return next > s.hi;
  });
}
