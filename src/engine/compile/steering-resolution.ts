/**
 * Steering (design.md §1 `routes[]`, docs/adr/0008-steering.md): which route, if any,
 * sends a flow from a record through a via record. Pure.
 *
 * Resolution: among the routes of the enforce-mode policies whose `appliesTo` matches
 * the source that match the destination (peer, like an egress rule's `to`), protocol
 * and port, the highest priority wins; ties go to the policy name, then the route
 * index. Routes are compiled like egress rules and resolved by a {@link ResolvedSide}
 * of their own, so the datapath entries and `check` come from the same tables.
 *
 * Steer classes: every via record some route names gets a number in the reserved
 * identity range 2..255, in the order of the names, so every manager and every host
 * agrees without coordination; names past the 254th get none (their routes are inert).
 */
import { STEER_CLASS_FIRST, STEER_CLASS_LAST, type SteerClass } from '../../model/host-state.js';
import type { SteeringResult } from '../../model/check.js';
import {
  comparePrecedence,
  type CompiledPolicy,
  type CompiledSteeringRoute,
} from './compiled-rule.js';
import { ruleMatches, type MemberTest, type PeerEndpoint } from '../verdict/explain.js';
import { ResolvedSide, type MemberSetOf } from './resolved-side.js';

/** Most via records that can have a steer class. */
export const STEER_CLASS_LIMIT = STEER_CLASS_LAST - STEER_CLASS_FIRST + 1;

/**
 * Steer classes from the policies: sorted distinct via names → 2, 3, …
 *
 * @example steerClasses(policies) // Map { 'fw-a' => 2, 'fw-b' => 3 }
 */
export function steerClasses(policies: Iterable<CompiledPolicy>): Map<string, number> {
  const names = new Set<string>();
  for (const p of policies) for (const r of p.routes) names.add(r.via);
  const out = new Map<string, number>();
  [...names]
    .sort()
    .slice(0, STEER_CLASS_LIMIT)
    .forEach((name, i) => out.set(name, STEER_CLASS_FIRST + i));
  return out;
}

/** The wire table of steer classes, by class. */
export function steerTable(classes: ReadonlyMap<string, number>): SteerClass[] {
  return [...classes].map(([via, c]) => ({ class: c, via })).sort((a, b) => a.class - b.class);
}

/** The routes that apply to an identity, resolved into lookup tables. */
export function buildSteeringSide(
  identity: number,
  routes: CompiledSteeringRoute[],
  memberSetOf: MemberSetOf,
): ResolvedSide {
  return new ResolvedSide(identity, 'egress', [...routes].sort(comparePrecedence), [], memberSetOf);
}

/** Where the via record of a route stands, as the engine knows it. */
export type ViaStatus = { ok: true } | { ok: false; reason: string };

/**
 * The route steering a flow from a record, with the routes that matched but lost;
 * undefined when no route matches.
 */
export function explainSteering(
  side: ResolvedSide,
  peer: PeerEndpoint,
  proto: number,
  port: number,
  member: MemberTest,
  classes: ReadonlyMap<string, number>,
  viaStatus: (via: string) => ViaStatus,
): SteeringResult | undefined {
  const pos = side.decide(peer.identity, peer.ip.family, peer.ip.value, proto, port);
  if (pos < 0) return undefined;
  const route = side.rules[pos] as CompiledSteeringRoute;
  const overridden = side.rules
    .map((r, i) => ({ r: r as CompiledSteeringRoute, i }))
    .filter(({ r, i }) => i !== pos && ruleMatches(r, peer, proto, port, member))
    .map(({ r }) => ({ policy: r.policy, route: r.ref.rule, via: r.via }));
  const steer = classes.get(route.via);
  const status: ViaStatus =
    steer === undefined
      ? {
          ok: false,
          reason: `more than ${STEER_CLASS_LIMIT} via records: "${route.via}" has no steer class`,
        }
      : viaStatus(route.via);
  return {
    policy: route.policy,
    priority: route.priority,
    route: route.ref.rule,
    via: route.via,
    ...(status.ok ? { steer } : {}),
    active: status.ok,
    ...(status.ok ? {} : { reason: `inert: ${status.reason}` }),
    overridden,
  };
}
