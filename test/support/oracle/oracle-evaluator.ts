/**
 * The §2 oracle: design.md §2 transcribed as plainly as possible, to be
 * compared against the compiled engine (test/semantics/differential.test.ts).
 *
 * It is deliberately slow and obvious: every call resolves the endpoints, the
 * partitions and every rule of every policy from the plain model; nothing is
 * cached, no identities are allocated. It shares no code with the compiled engine
 * beyond the selector compiler and the address/port parsers, so agreement between
 * the two means something. docs/semantics.md explains each decision with examples.
 *
 * Conventions where §2 is silent (also in docs/semantics.md):
 * - an endpoint is a record name first, else an IP address; an address held by a
 *   record is that record (with that address); a named record uses its primary
 *   (first) address; any other address is outside every record;
 * - `protocol` defaults to `tcp`; `port` is required (1..65535) except for icmp,
 *   where it is ignored;
 * - among matching enforce rules the decider is the first in precedence order:
 *   priority (higher first; a rule's own `priority`, else its policy's), then
 *   deny > log > allow, then policy name, then rule
 *   index; the others are `overridden`, in the same order;
 * - `audit.wouldBe` is what the first audit-mode rule in that order would do.
 */
import { VnpError } from '../../../src/model/errors.js';
import type { Action, Interface, Peer, Protocol, Rule, Tags } from '../../../src/model/types.js';
import { PROTOCOLS } from '../../../src/model/types.js';
import type { Direction } from '../../../src/model/host-state.js';
import { compileSelector, parseSelector } from '../../../src/selector/index.js';
import type {
  CheckRequest,
  CheckResult,
  EndpointInfo,
  ResolvedPolicy,
  ResolvedRule,
  RuleRef,
  SideResult,
} from '../../../src/engine/index.js';
import type { OracleModel } from './oracle-model.js';
import { oracleShadowed } from './oracle-shadowing.js';
import {
  addressInCidr,
  canonicalAddress,
  parseAddress,
  portSpecRanges,
  sameAddress,
} from './oracle-net.js';

export type { OracleModel } from './oracle-model.js';

/** Identity the reference reports for an address outside every record (design §3: 1 = world). */
const WORLD_IDENTITY = 1;
/** The reference allocates no identities; records report 0. */
const NO_IDENTITY = 0;

/** A resolved flow endpoint. */
interface Endpoint {
  /** The record, when the endpoint is (an address of) one. */
  record?: Interface;
  /** The address the flow uses: the given one, or the record's primary. */
  address: string;
  /** Names of the partitions whose selector matches the record (none when outside). */
  partitions: string[];
}

interface Traffic {
  protocol: Protocol;
  /** 0 for icmp (ports do not apply). */
  port: number;
}

/** A rule that matched the flow, with where it came from. */
interface Match extends RuleRef {
  index: number;
}

/**
 * Judges one flow against the model, with a full explanation (design.md §2).
 *
 * @example
 *   oracleCheck(model, { src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict; // 'allow' | 'deny'
 */
export function oracleCheck(model: OracleModel, req: CheckRequest): CheckResult {
  const traffic = parseTraffic(req);
  const src = resolveEndpoint(model, req.src, 'src');
  const dst = resolveEndpoint(model, req.dst, 'dst');
  let egress: SideResult;
  let ingress: SideResult;
  if (src.record && dst.record && src.record.name === dst.record.name) {
    egress = sameRecordSide();
    ingress = sameRecordSide();
  } else {
    egress = src.record
      ? evaluateSide(model, 'egress', src, dst, traffic)
      : outsideSide('src', src);
    ingress = dst.record
      ? evaluateSide(model, 'ingress', dst, src, traffic)
      : outsideSide('dst', dst);
  }
  const verdict = egress.verdict === 'allow' && ingress.verdict === 'allow' ? 'allow' : 'deny';
  return {
    verdict,
    reason: flowReason(src, dst, egress, ingress),
    src: endpointInfo(src),
    dst: endpointInfo(dst),
    egress,
    ingress,
  };
}

/**
 * The merged, precedence-ordered rules for a record with these tags (§2, the seed's
 * `get_policy_for_traffic`). Order: priority desc, deny > log > allow, policy name,
 * rule index. `shadowed` marks an enforce rule that can never decide: earlier enforce
 * rules match every peer and port it can match (reference-shadowing.ts). Audit rules
 * are never shadowed and shadow nothing.
 *
 * @example
 *   oracleGetPolicyForTags(model, { app: 'web' }).egress[0]; // the rule that wins first
 */
export function oracleGetPolicyForTags(model: OracleModel, tags: Tags): ResolvedPolicy {
  const policies = model.policies
    .filter((p) => selectorMatches(p.appliesTo, tags))
    .sort((a, b) => b.priority - a.priority || compareText(a.name, b.name));
  const partitions = model.partitions
    .filter((p) => selectorMatches(p.selector, tags))
    .map((p) => p.name)
    .sort(compareText);
  const resolve = (direction: Direction): ResolvedRule[] => {
    const rules: ResolvedRule[] = [];
    for (const policy of policies) {
      policy[direction].forEach((rule, index) => {
        const peer = peerOf(rule, direction);
        rules.push({
          policy: policy.name,
          priority: rule.priority ?? policy.priority,
          rule: `${direction}[${index}]`,
          action: rule.action,
          mode: policy.mode,
          direction,
          peer: peer ? structuredClone(peer) : 'any',
          ports: rule.ports ? [...rule.ports] : 'all',
          shadowed: false,
        });
      });
    }
    rules.sort(comparePrecedence);
    return rules.map((rule, i) => ({
      ...rule,
      shadowed: oracleShadowed(model, rule, rules.slice(0, i)),
    }));
  };
  return {
    policies: policies.map((p) => p.name),
    partitions,
    ingress: resolve('ingress'),
    egress: resolve('egress'),
  };
}

// ---------------------------------------------------------------- request parsing

function parseTraffic(req: CheckRequest): Traffic {
  const protocol = req.protocol ?? 'tcp';
  if (!PROTOCOLS.includes(protocol)) {
    throw new VnpError('VNP_ERR_VALIDATION', `protocol: expected one of ${PROTOCOLS.join(', ')}`, {
      field: 'protocol',
      expected: PROTOCOLS.join(' | '),
    });
  }
  if (protocol === 'icmp') return { protocol, port: 0 };
  const port = req.port;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VnpError('VNP_ERR_VALIDATION', `port: expected an integer 1..65535 for ${protocol}`, {
      field: 'port',
      expected: 'integer 1..65535',
    });
  }
  return { protocol, port };
}

/** A record name first; else an address, held by a record or outside every record. */
function resolveEndpoint(model: OracleModel, text: string, field: 'src' | 'dst'): Endpoint {
  const named = model.interfaces.find((r) => r.name === text);
  if (named) return recordEndpoint(model, named, canonicalAddress(named.ips[0] ?? ''));
  if (parseAddress(text) === undefined) {
    throw new VnpError(
      'VNP_ERR_UNKNOWN_ENDPOINT',
      `${field}: ${JSON.stringify(text)} is neither a record nor an address`,
      {
        field,
      },
    );
  }
  // Addresses are unique per subnet; should two subnets overlap, the first record by name wins.
  const holders = model.interfaces
    .filter((r) => r.ips.some((ip) => sameAddress(ip, text)))
    .sort((a, b) => compareText(a.name, b.name));
  const holder = holders[0];
  if (holder) return recordEndpoint(model, holder, canonicalAddress(text));
  return { address: canonicalAddress(text), partitions: [] };
}

function recordEndpoint(model: OracleModel, record: Interface, address: string): Endpoint {
  return { record, address, partitions: partitionsOf(model, record.tags) };
}

function partitionsOf(model: OracleModel, tags: Tags): string[] {
  return model.partitions
    .filter((p) => selectorMatches(p.selector, tags))
    .map((p) => p.name)
    .sort(compareText);
}

// ---------------------------------------------------------------- one side

/**
 * §2.1 and §2.2 for one side: `local` is the record whose policies apply (S for
 * egress, D for ingress), `peer` the other end.
 */
function evaluateSide(
  model: OracleModel,
  direction: Direction,
  local: Endpoint,
  peer: Endpoint,
  traffic: Traffic,
): SideResult {
  const matches = matchingRules(model, direction, local, peer, traffic).sort(comparePrecedence);
  const enforce = matches.filter((m) => m.mode === 'enforce').map(toRef);
  const audit = matches.filter((m) => m.mode === 'audit').map(toRef);
  const auditPart =
    audit.length > 0 ? { audit: { rules: audit, wouldBe: verdictOf(audit[0]!.action) } } : {};
  const decider = enforce[0];
  if (decider) {
    return {
      verdict: verdictOf(decider.action),
      ...(decider.action === 'log' ? { logged: true } : {}),
      policy: decider.policy,
      rule: decider,
      overridden: enforce.slice(1),
      ...auditPart,
      evaluated: true,
    };
  }
  const fallback = defaultVerdict(
    model,
    direction === 'egress' ? local : peer,
    direction === 'egress' ? peer : local,
  );
  return {
    verdict: fallback.verdict,
    default: fallback,
    overridden: [],
    ...auditPart,
    evaluated: true,
  };
}

/** Every rule of every policy applying to `local` that matches the peer and traffic. */
function matchingRules(
  model: OracleModel,
  direction: Direction,
  local: Endpoint,
  peer: Endpoint,
  traffic: Traffic,
): Match[] {
  const found: Match[] = [];
  for (const policy of model.policies) {
    if (!local.record || !selectorMatches(policy.appliesTo, local.record.tags)) continue;
    policy[direction].forEach((rule, index) => {
      if (!peerMatches(model, peerOf(rule, direction), peer)) return;
      if (!portsMatch(rule.ports, traffic)) return;
      found.push({
        policy: policy.name,
        priority: rule.priority ?? policy.priority,
        rule: `${direction}[${index}]`,
        action: rule.action,
        mode: policy.mode,
        index,
      });
    });
  }
  return found;
}

function peerOf(rule: Rule, direction: Direction): Peer | undefined {
  return direction === 'ingress' ? rule.from : rule.to;
}

/** A peer: absent = anything; selector/partition = records only; cidr = the flow's address. */
function peerMatches(model: OracleModel, peer: Peer | undefined, endpoint: Endpoint): boolean {
  if (peer === undefined) return true;
  if (peer.selector !== undefined) {
    return endpoint.record !== undefined && selectorMatches(peer.selector, endpoint.record.tags);
  }
  if (peer.partition !== undefined) {
    const partition = model.partitions.find((p) => p.name === peer.partition);
    return (
      partition !== undefined &&
      endpoint.record !== undefined &&
      selectorMatches(partition.selector, endpoint.record.tags)
    );
  }
  if (peer.cidr !== undefined) {
    if (!addressInCidr(endpoint.address, peer.cidr)) return false;
    return !(peer.except ?? []).some((range) => addressInCidr(endpoint.address, range));
  }
  // A peer object with none of the three fields selects nothing in particular: any.
  return true;
}

/** Ports absent = all traffic; otherwise one spec must have the flow's protocol and port. */
function portsMatch(ports: string[] | undefined, traffic: Traffic): boolean {
  if (ports === undefined) return true;
  return ports.some((spec) => {
    const range = portSpecRanges(spec);
    if (range.protocol !== traffic.protocol) return false;
    return traffic.protocol === 'icmp' || (range.lo <= traffic.port && traffic.port <= range.hi);
  });
}

/** §2.2: the default of a side on which no rule matched (the same for both sides). */
function defaultVerdict(
  model: OracleModel,
  src: Endpoint,
  dst: Endpoint,
): { verdict: 'allow' | 'deny'; reason: string } {
  const shared = src.partitions.filter((p) => dst.partitions.includes(p));
  if (shared.length > 0) {
    const denying = shared.filter(
      (name) => model.partitions.find((p) => p.name === name)?.intra === 'deny',
    );
    const list = shared.map((p) => JSON.stringify(p)).join(', ');
    const what = shared.length === 1 ? `partition ${list}` : `partitions ${list}`;
    if (denying.length > 0) {
      return {
        verdict: 'deny',
        reason: `no rule matched; src and dst share ${what} (intra deny in ${JSON.stringify(denying[0])})`,
      };
    }
    return { verdict: 'allow', reason: `no rule matched; src and dst share ${what} (intra allow)` };
  }
  if (src.partitions.length === 0 && dst.partitions.length === 0) {
    const verdict = model.settings.defaults.unpartitioned;
    return {
      verdict,
      reason: `no rule matched; neither src nor dst is in a partition (defaults.unpartitioned: ${verdict})`,
    };
  }
  const verdict = model.settings.defaults.crossPartition;
  return {
    verdict,
    reason: `no rule matched; src and dst share no partition (defaults.crossPartition: ${verdict})`,
  };
}

/** §2.3: no PEP sits at an address outside every record. */
function outsideSide(field: 'src' | 'dst', endpoint: Endpoint): SideResult {
  return {
    verdict: 'allow',
    default: {
      verdict: 'allow',
      reason: `${field} ${endpoint.address} is outside every record; this side is not evaluated`,
    },
    overridden: [],
    evaluated: false,
  };
}

/** §2.3: a record talking to itself. */
function sameRecordSide(): SideResult {
  return {
    verdict: 'allow',
    default: { verdict: 'allow', reason: 'same record' },
    overridden: [],
    evaluated: true,
  };
}

// ---------------------------------------------------------------- precedence

const ACTION_RANK: Record<Action, number> = { deny: 0, log: 1, allow: 2 };

/** Priority desc, then deny > log > allow, then policy name, then rule index. */
function comparePrecedence(a: RuleRef, b: RuleRef): number {
  return (
    b.priority - a.priority ||
    ACTION_RANK[a.action] - ACTION_RANK[b.action] ||
    compareText(a.policy, b.policy) ||
    ruleIndex(a.rule) - ruleIndex(b.rule)
  );
}

function ruleIndex(rule: string): number {
  return Number(/\[(\d+)\]$/.exec(rule)?.[1] ?? 0);
}

function verdictOf(action: Action): 'allow' | 'deny' {
  return action === 'deny' ? 'deny' : 'allow';
}

function toRef(m: Match): RuleRef {
  return { policy: m.policy, priority: m.priority, rule: m.rule, action: m.action, mode: m.mode };
}

// ---------------------------------------------------------------- explanation

function endpointInfo(e: Endpoint): EndpointInfo {
  return {
    ...(e.record ? { record: e.record.name } : {}),
    address: e.address,
    identity: e.record ? NO_IDENTITY : WORLD_IDENTITY,
    partitions: e.partitions,
  };
}

function flowReason(src: Endpoint, dst: Endpoint, egress: SideResult, ingress: SideResult): string {
  if (src.record && dst.record && src.record.name === dst.record.name) return 'same record';
  if (!src.record && !dst.record) return 'neither endpoint is a record; no side is evaluated';
  const denied = [
    egress.verdict === 'deny' ? ['egress', egress] : undefined,
    ingress.verdict === 'deny' ? ['ingress', ingress] : undefined,
  ]
    .filter((x): x is [string, SideResult] => x !== undefined)
    .map(([name, side]) => `${name} ${describeSide(side)}`);
  if (denied.length > 0) return `denied: ${denied.join('; ')}`;
  return `allowed: egress ${describeSide(egress)}; ingress ${describeSide(ingress)}`;
}

function describeSide(side: SideResult): string {
  if (side.rule)
    return `${side.rule.action} by policy ${JSON.stringify(side.rule.policy)} ${side.rule.rule}`;
  if (!side.evaluated) return 'not evaluated';
  return `default ${side.verdict} (${side.default?.reason ?? ''})`;
}

// ---------------------------------------------------------------- helpers

/** Parse and compile on every call: the reference keeps no memo. */
function selectorMatches(text: string, tags: Tags): boolean {
  return compileSelector(parseSelector(text))(tags);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
