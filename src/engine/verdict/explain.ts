/**
 * Explanations of one side (design.md §2.5): the deciding rule (from the same compiled
 * tables the fast path uses, so `check` and the datapath agree by construction), the
 * matching rules that lost, and what audit-mode rules would have done.
 */
import type { Ip } from '../../model/net.js';
import { cidrContainsRange } from '../compile/address-match.js';
import { spansCover, type CompiledRule } from '../compile/compiled-rule.js';
import type { ResolvedSide } from '../compile/resolved-side.js';
import type { RuleRef, SideResult } from '../types.js';

/** The other end of the flow as a side sees it. */
export interface PeerEndpoint {
  /** Its identity (1 = world for an address outside every record). */
  identity: number;
  ip: Ip;
}

/** Tells whether an identity belongs to a rule's peer set (selector or partition). */
export type MemberTest = (rule: CompiledRule, peer: number) => boolean;

/** Whether a rule matches the peer and the traffic (protocol index, port). */
export function ruleMatches(
  rule: CompiledRule,
  peer: PeerEndpoint,
  proto: number,
  port: number,
  member: MemberTest,
): boolean {
  if (!spansCover(rule.spans, proto, port)) return false;
  if (rule.peer.kind === 'any') return true;
  if (rule.peer.kind === 'cidr') return cidrContainsRange(rule.peer.ranges, peer.ip);
  return member(rule, peer.identity);
}

export function explainSide(
  side: ResolvedSide,
  peer: PeerEndpoint,
  proto: number,
  port: number,
  def: { verdict: 'allow' | 'deny'; reason: string },
  member: MemberTest,
): SideResult {
  const pos = side.decide(peer.identity, peer.ip.family, peer.ip.value, proto, port);
  const overridden: RuleRef[] = [];
  side.rules.forEach((r, i) => {
    if (i !== pos && ruleMatches(r, peer, proto, port, member)) overridden.push(r.ref);
  });
  const auditRules = side.audit.filter((r) => ruleMatches(r, peer, proto, port, member));
  const audit = auditRules.length
    ? {
        rules: auditRules.map((r) => r.ref),
        wouldBe: auditRules[0]!.action === 'deny' ? ('deny' as const) : ('allow' as const),
      }
    : undefined;
  if (pos < 0) {
    return {
      verdict: def.verdict,
      default: def,
      overridden,
      evaluated: true,
      ...(audit ? { audit } : {}),
    };
  }
  const rule = side.rules[pos]!;
  return {
    verdict: rule.action === 'deny' ? 'deny' : 'allow',
    ...(rule.action === 'log' ? { logged: true } : {}),
    policy: rule.policy,
    rule: rule.ref,
    overridden,
    evaluated: true,
    ...(audit ? { audit } : {}),
  };
}

/** §2.3: the side of an address outside every record is not evaluated. */
export function notEvaluated(reason: string): SideResult {
  return {
    verdict: 'allow',
    default: { verdict: 'allow', reason: `not evaluated: ${reason} (no PEP sits there)` },
    overridden: [],
    evaluated: false,
  };
}

/** §2.3: a record talking to itself is allowed. */
export function sameRecordSide(): SideResult {
  return {
    verdict: 'allow',
    default: { verdict: 'allow', reason: 'a record talking to itself is allowed' },
    overridden: [],
    evaluated: true,
  };
}
