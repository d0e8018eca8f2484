/**
 * Public types of the policy engine (pure: no I/O, time passed in).
 * The implementation lives beside this file; `src/engine/index.ts` exports it.
 */
import type { Action, Document, Kind, Protocol, Tags } from '../model/types.js';
import type { Direction, IpcacheEntry } from '../model/host-state.js';

/** One change of a batch: create-or-replace a document, or delete by kind and name. */
export type Change = { op: 'put'; doc: Document } | { op: 'delete'; kind: Kind; name: string };

/** What a batch changed, for PEPs and watchers. Empty arrays when nothing of that sort changed. */
export interface EngineDelta {
  /** Address → identity entries added or changed. */
  ipcacheUpsert: IpcacheEntry[];
  /** Addresses no longer held by any record. */
  ipcacheRemove: string[];
  /** Identities newly allocated (with their identity-relevant tags). */
  identitiesAdded: { id: number; tags: Tags }[];
  /** Identities whose last user left (released after the grace period). */
  identitiesReleased: number[];
  /** (identity, direction) sides whose resolved policy changed. */
  sides: { identity: number; direction: Direction }[];
  /** Identities whose default verdicts (partition membership) changed. */
  defaults: number[];
  /** Records (names) whose attachment, addresses or identity changed. */
  records: string[];
  /** Hosts whose instances were created, changed or deleted. */
  hosts: string[];
}

/** A flow to judge. `src`/`dst` are record names or IP addresses. */
export interface CheckRequest {
  src: string;
  dst: string;
  protocol?: Protocol;
  /** Destination port; ignored for icmp. */
  port?: number;
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

/** A disjoint port range of one protocol with the flow verdict for it. */
export interface FlowSegment {
  proto: Protocol;
  lo: number;
  hi: number;
  verdict: 'allow' | 'deny';
}
