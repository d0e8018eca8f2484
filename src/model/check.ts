/**
 * The wire form of `POST /v1/check` (design.md §2.5, §5): the request and the explained
 * verdict. Shared by the engine that produces it and the clients that read it.
 */
import { VnpError } from './errors.js';
import type { Direction } from './host-state.js';
import type { Action, Protocol } from './types.js';

/** A flow to judge. `src`/`dst` are record names or IP addresses. */
export interface CheckRequest {
  src: string;
  dst: string;
  protocol?: Protocol;
  /** Destination port; required for tcp, udp and sctp; refused for icmp (see refuseIcmpPort). */
  port?: number;
}

/**
 * Policies match ICMP as a whole (`ports: [icmp]`, no types), so a port on an icmp
 * flow would be silently ignored: refuse it instead (`--port 8` is no echo request).
 *
 * @example
 *   refuseIcmpPort('icmp', 8) // throws VNP_ERR_VALIDATION naming port
 *   refuseIcmpPort('tcp', 443) // returns
 */
export function refuseIcmpPort(protocol: string | undefined, port: number | undefined): void {
  if (protocol !== 'icmp' || port === undefined) return;
  throw new VnpError(
    'VNP_ERR_VALIDATION',
    `port: icmp has no ports and policies match icmp as a whole (no ICMP types); drop the port, got ${port}`,
    { field: 'port', expected: 'no port with protocol icmp' },
  );
}

/** A rule as named in explanations. */
export interface RuleRef {
  policy: string;
  priority: number;
  /** `egress[0]`, `ingress[3]`. */
  rule: string;
  action: Action;
  mode: 'enforce' | 'audit';
}

/** How one side was decided (design.md §2.5). */
export interface SideResult {
  verdict: 'allow' | 'deny';
  /** True when the deciding rule is a `log` rule. */
  logged?: boolean;
  /** Deciding policy name, when a rule decided. */
  policy?: string;
  rule?: RuleRef;
  /** When no rule decided: the default taken and why. */
  default?: { verdict: 'allow' | 'deny'; reason: string };
  /** Rules that matched but lost (lower priority, or less strict at the same priority). */
  overridden: RuleRef[];
  /** Audit-mode rules that matched, and what the best of them would have done. */
  audit?: { rules: RuleRef[]; wouldBe: 'allow' | 'deny' };
  /** False when the side is an address outside every record (§2.3). */
  evaluated: boolean;
}

export interface EndpointInfo {
  /** Record name, absent for an outside address. */
  record?: string;
  address?: string;
  identity: number;
  partitions: string[];
}

export interface CheckResult {
  verdict: 'allow' | 'deny';
  /** Why, in one line (e.g. "same record", "egress denied by policy x"). */
  reason: string;
  src: EndpointInfo;
  dst: EndpointInfo;
  egress: SideResult;
  ingress: SideResult;
  /** The route that steers this flow (design.md §1 `routes[]`), when one matches. */
  route?: SteeringResult;
}

/**
 * How a flow is steered. Steering never changes the verdict; it is reported for an
 * allowed flow from a record. `active` is false when the route is inert (the via record
 * does not exist or is not attached to an instance on a known host): then `reason` says why.
 */
export interface SteeringResult {
  policy: string;
  priority: number;
  /** `routes[0]`. */
  route: string;
  via: string;
  /** Steer class carried on the wire (absent when inert). */
  steer?: number;
  active: boolean;
  reason?: string;
  /** Routes that matched but lost (lower priority, or later policy name / index). */
  overridden: { policy: string; route: string; via: string }[];
}

/** One resolved rule of `getPolicyForTags`, in precedence order. */
export interface ResolvedRule extends RuleRef {
  direction: Direction;
  peer: { selector?: string; partition?: string; cidr?: string; except?: string[] } | 'any';
  ports: string[] | 'all';
  /** True when a higher-precedence rule fully covers it (it can never decide). */
  shadowed: boolean;
}

/** The seed's `get_policy_for_traffic`: the merged, ordered rule set for these tags. */
export interface ResolvedPolicy {
  policies: string[];
  partitions: string[];
  ingress: ResolvedRule[];
  egress: ResolvedRule[];
}

/**
 * A rule that can never decide (design.md §2.1), reported by `apply` and its dry run
 * (docs/semantics.md, "Rules that can never decide"):
 * - `shadowed`: for every peer it can match (present or future records, outside
 *   addresses) and every port, earlier rules in precedence order decide first;
 *   `shadowedBy` names them (empty: the rule matches no address at all);
 * - `unused` (only with `strict`): it matches nothing in the model as it is — its
 *   policy applies to no record, or its selector or partition peer matches no record.
 *   A later record can change that; a shadowed rule stays shadowed for any records.
 */
export interface RuleWarning {
  kind: 'shadowed' | 'unused';
  rule: RuleRef & { direction: Direction };
  shadowedBy?: RuleRef[];
  /** One line naming the rule and why, e.g. `Policy/q egress[0] (allow, priority 100) can never decide: …`. */
  message: string;
}
