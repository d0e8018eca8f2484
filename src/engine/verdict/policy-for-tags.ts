/**
 * `getPolicyForTags(tags)` — the seed's `get_policy_for_traffic`: the merged rule set of
 * every policy whose `appliesTo` matches a record with these tags, in precedence order,
 * each marked `shadowed` when it can never decide: earlier enforce rules of these
 * policies decide every flow it matches, whatever the peer (src/engine/warnings/shadowing.ts).
 */
import type { Partition, Tags } from '../../model/types.js';
import {
  comparePrecedence,
  type CompiledPolicy,
  type CompiledRule,
} from '../compile/compiled-rule.js';
import {
  partitionPeerImplication,
  shadowingRules,
  type PeerImplies,
} from '../warnings/shadowing.js';
import type { ResolvedPolicy, ResolvedRule } from '../types.js';

/**
 * With `shadowing: false` every rule says `shadowed: false` and the check (quadratic in
 * a side's rules) is skipped: for callers that compare rule lists, where the flag is a
 * function of the list (the impact preview).
 */
export function resolvePolicyForTags(
  tags: Tags,
  policies: readonly CompiledPolicy[],
  partitions: readonly Partition[],
  shadowing = true,
): ResolvedPolicy {
  const applying = policies.filter((p) => p.appliesTo.matches(tags));
  const rules = applying.flatMap((p) => p.rules).sort(comparePrecedence);
  const implies = shadowing ? partitionPeerImplication(partitions) : undefined;
  const resolve = (dir: 'ingress' | 'egress'): ResolvedRule[] => {
    const list = rules.filter((r) => r.direction === dir);
    return list.map((r, i) => toResolved(r, implies && list.slice(0, i), implies));
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

import { compileSelectorCached as compileCached } from '../../selector/index.js';

function toResolved(
  r: CompiledRule,
  earlier: readonly CompiledRule[] | undefined,
  implies: PeerImplies | undefined,
): ResolvedRule {
  const peerSpec = r.direction === 'egress' ? r.source.to : r.source.from;
  const peer =
    peerSpec &&
    (peerSpec.selector !== undefined ||
      peerSpec.partition !== undefined ||
      peerSpec.cidr !== undefined)
      ? { ...peerSpec }
      : ('any' as const);
  const shadowed =
    earlier !== undefined &&
    implies !== undefined &&
    r.mode === 'enforce' &&
    shadowingRules(
      r,
      earlier.filter((e) => e.mode === 'enforce'),
      implies,
    ) !== undefined;
  return {
    ...r.ref,
    direction: r.direction,
    peer,
    ports: r.source.ports && r.source.ports.length ? [...r.source.ports] : 'all',
    shadowed,
  };
}
