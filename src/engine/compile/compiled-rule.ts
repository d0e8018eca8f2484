/**
 * Rules of a policy compiled once: peers bound to selector-cache entries or parsed
 * address ranges, ports parsed into spans, and a total precedence order.
 *
 * Precedence (design.md §2.1, then deterministic tie-breaks for explanations):
 * priority descending (a rule's own `priority` when it has one, else its policy's); then
 * deny > log > allow; then policy name; then rule index.
 */
import type { Action, Peer, Policy, PolicyMode, Rule } from '../../model/types.js';
import type { Direction } from '../../model/host-state.js';
import { cidrLast, parseCidr } from '../../model/net.js';
import { parsePortSpec } from '../../model/ports.js';
import type { AddressRange } from './address-table.js';
import { subtractRanges } from './address-table.js';
import { ALL_TRAFFIC, PROTO_INDEX, type PortSpan } from './port-table.js';
import type { SelectorCache, SelectorEntry } from '../identity/selector-cache.js';
import type { RuleRef } from '../types.js';

export type CompiledPeer =
  | { kind: 'any' }
  | { kind: 'selector'; entry: SelectorEntry }
  | { kind: 'partition'; name: string }
  | { kind: 'cidr'; ranges: AddressRange[] };

export interface CompiledRule {
  readonly policy: string;
  /** Effective priority: the rule's own `priority`, else its policy's (design.md §2.1). */
  readonly priority: number;
  readonly mode: PolicyMode;
  readonly action: Action;
  readonly direction: Direction;
  readonly index: number;
  /** deny 2, log 1, allow 0: the stricter wins on equal priority. */
  readonly strictness: number;
  readonly peer: CompiledPeer;
  readonly spans: readonly PortSpan[];
  readonly source: Rule;
  readonly ref: RuleRef;
}

/**
 * A route compiled like an egress rule (peer `to`, ports), so route resolution reuses the
 * side machinery: same precedence (priority, then policy name, then index; every route
 * has the same strictness). `ref.rule` is `routes[i]`.
 */
export interface CompiledSteeringRoute extends CompiledRule {
  readonly via: string;
}

export interface CompiledPolicy {
  readonly doc: Policy;
  readonly appliesTo: SelectorEntry;
  readonly rules: readonly CompiledRule[];
  /** Its routes (empty for an audit-mode policy: audit never changes the datapath). */
  readonly routes: readonly CompiledSteeringRoute[];
  /** Partition names its rule peers name (to invalidate on partition changes). */
  readonly partitionPeers: ReadonlySet<string>;
}

const STRICTNESS: Record<Action, number> = { deny: 2, log: 1, allow: 0 };

/** Total precedence order: negative when `a` decides before `b`. */
export function comparePrecedence(a: CompiledRule, b: CompiledRule): number {
  return (
    b.priority - a.priority ||
    b.strictness - a.strictness ||
    (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0) ||
    (a.direction === b.direction ? 0 : a.direction === 'egress' ? -1 : 1) ||
    a.index - b.index
  );
}

/** Compiles a (validated) policy, retaining its selectors in `cache`. */
export function compilePolicy(doc: Policy, cache: SelectorCache): CompiledPolicy {
  const appliesTo = cache.retain(doc.appliesTo);
  const partitionPeers = new Set<string>();
  const rules: CompiledRule[] = [];
  const add = (direction: Direction, list: readonly Rule[]) =>
    list.forEach((rule, index) => {
      const peer = compilePeer(direction === 'egress' ? rule.to : rule.from, cache);
      if (peer.kind === 'partition') partitionPeers.add(peer.name);
      const priority = rule.priority ?? doc.priority;
      const ref: RuleRef = {
        policy: doc.name,
        priority,
        rule: ruleLabel(direction, index),
        action: rule.action,
        mode: doc.mode,
      };
      rules.push({
        policy: doc.name,
        priority,
        mode: doc.mode,
        action: rule.action,
        direction,
        index,
        strictness: STRICTNESS[rule.action],
        peer,
        spans: rulePorts(rule.ports, direction, index),
        source: rule,
        ref,
      });
    });
  add('egress', doc.egress ?? []);
  add('ingress', doc.ingress ?? []);
  const routes: CompiledSteeringRoute[] = [];
  if (doc.mode !== 'audit')
    (doc.routes ?? []).forEach((route, index) => {
      const peer = compilePeer(route.to, cache);
      if (peer.kind === 'partition') partitionPeers.add(peer.name);
      const rule = ruleLabel('routes', index);
      routes.push({
        policy: doc.name,
        priority: doc.priority,
        mode: doc.mode,
        action: 'allow',
        direction: 'egress',
        index,
        strictness: 0,
        peer,
        spans: rulePorts(route.ports, 'routes', index),
        source: { action: 'allow', ...(route.to ? { to: route.to } : {}) },
        ref: { policy: doc.name, priority: doc.priority, rule, action: 'allow', mode: doc.mode },
        via: route.via,
      });
    });
  return { doc, appliesTo, rules, routes, partitionPeers };
}

/**
 * A compiled policy bound to another cache's entries (`entryOf`: old entry → its copy,
 * see SelectorCache.clone): rules whose peer is a selector are copied, the rest shared
 * (compiled rules are never changed in place).
 */
export function rebindPolicy(
  p: CompiledPolicy,
  entryOf: ReadonlyMap<SelectorEntry, SelectorEntry>,
): CompiledPolicy {
  const rebind = <R extends CompiledRule>(r: R): R =>
    r.peer.kind === 'selector'
      ? { ...r, peer: { kind: 'selector', entry: entryOf.get(r.peer.entry)! } }
      : r;
  return {
    ...p,
    appliesTo: entryOf.get(p.appliesTo)!,
    rules: p.rules.map(rebind),
    routes: p.routes.map(rebind),
  };
}

/** Releases the selector-cache entries a compiled policy holds. */
export function releasePolicy(p: CompiledPolicy, cache: SelectorCache): void {
  cache.release(p.appliesTo);
  for (const r of [...p.rules, ...p.routes])
    if (r.peer.kind === 'selector') cache.release(r.peer.entry);
}

export function compilePeer(peer: Peer | undefined, cache: SelectorCache): CompiledPeer {
  if (
    !peer ||
    (peer.selector === undefined && peer.partition === undefined && peer.cidr === undefined)
  )
    return { kind: 'any' };
  if (peer.selector !== undefined) return { kind: 'selector', entry: cache.retain(peer.selector) };
  if (peer.partition !== undefined) return { kind: 'partition', name: peer.partition };
  return { kind: 'cidr', ranges: cidrRanges(peer.cidr!, peer.except ?? []) };
}

/** A cidr less its exceptions, as disjoint ranges. */
export function cidrRanges(cidr: string, except: readonly string[]): AddressRange[] {
  const toRange = (text: string): AddressRange => {
    const c = parseCidr(text);
    if (!c) throw new Error(`invalid cidr reached the compiler: ${text}`);
    return { family: c.family, lo: c.base, hi: cidrLast(c) };
  };
  return subtractRanges(toRange(cidr), except.map(toRange));
}

/** Port specs → spans; absent means all traffic. */
export function compilePorts(ports: readonly string[] | undefined, field: string): PortSpan[] {
  if (!ports || ports.length === 0) return [...ALL_TRAFFIC];
  return ports.map((p, i) => {
    const spec = parsePortSpec(p, `${field}[${i}]`);
    return { proto: PROTO_INDEX[spec.proto], lo: spec.lo, hi: spec.hi };
  });
}

type RuleList = Direction | 'routes';

/**
 * The spans of a rule's ports. Spans are read-only, so rules with the same single port
 * spec (the common case: 10k policies name a few dozen ports) share one array, and the
 * error field text is built only when a spec is parsed.
 */
function rulePorts(
  ports: readonly string[] | undefined,
  list: RuleList,
  index: number,
): readonly PortSpan[] {
  if (!ports || ports.length === 0) return ALL_TRAFFIC;
  if (ports.length > 1) return compilePorts(ports, `${list}[${index}].ports`);
  let spans = singlePortMemo.get(ports[0]!);
  if (spans === undefined) {
    spans = Object.freeze(compilePorts(ports, `${list}[${index}].ports`));
    if (singlePortMemo.size >= 10_000) singlePortMemo.clear();
    singlePortMemo.set(ports[0]!, spans);
  }
  return spans;
}

const singlePortMemo = new Map<string, readonly PortSpan[]>();

/** `egress[3]`, `routes[0]`: interned per (list, index), as every rule carries one. */
function ruleLabel(list: RuleList, index: number): string {
  const labels = RULE_LABELS[list];
  return (labels[index] ??= `${list}[${index}]`);
}

const RULE_LABELS: Record<RuleList, string[]> = { egress: [], ingress: [], routes: [] };

/** True when the spans cover (proto, port). */
export function spansCover(spans: readonly PortSpan[], proto: number, port: number): boolean {
  for (const span of spans)
    if (span.proto === proto && span.lo <= port && port <= span.hi) return true;
  return false;
}
