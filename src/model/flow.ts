/**
 * Flow records (issue #12, docs/flows.md): one record per connection decision a PEP's
 * kernel made, and one when an allowed connection ends. The agent fills what its
 * HostState knows (addresses, identities, record names, the deciding entry of each
 * side it enforces); the manager adds partitions and stores them. Shared by the agent
 * (producer), the server (ingest, query) and the clients (CLI, web UI).
 */
import type { Protocol } from './types.js';

/** One end of a flow. */
export interface FlowEndpoint {
  address: string;
  /** Transport port (tcp, udp, sctp); absent for icmp. */
  port?: number;
  /** The interface record holding the address, when one does. */
  record?: string;
  /** Its identity (1: world, an address outside every record). */
  identity: number;
  /** Partitions of the identity (filled by the manager). */
  partitions: string[];
}

/**
 * How one side (egress at the source's host, ingress at the destination's) decided:
 * the deciding policy and rule exactly as `vnp check` names them, or the default.
 */
export interface FlowSide {
  verdict: 'allow' | 'deny';
  policy?: string;
  /** `egress[0]`, `ingress[2]`. */
  rule?: string;
  /** The default taken when no rule decided. */
  default?: 'allow' | 'deny';
  /** The deciding rule is a `log` rule. */
  logged?: boolean;
}

export type FlowState = 'new' | 'closed';
export type FlowVerdict = 'allow' | 'deny';

/** One flow record as agents send it and the API returns it. */
export interface FlowRecord {
  /** ISO time the kernel reported the event. */
  time: string;
  /** The PEP host that reported it. */
  host: string;
  src: FlowEndpoint;
  dst: FlowEndpoint;
  protocol: Protocol;
  /** Destination port (tcp, udp, sctp); the ICMP type for icmp. */
  port: number;
  /** ICMP code (icmp only). */
  code?: number;
  verdict: FlowVerdict;
  /** Absent when this host does not enforce that side (the peer's host reports it). */
  egress?: FlowSide;
  ingress?: FlowSide;
  state: FlowState;
  /** Both directions, from conntrack accounting (closed allowed connections). */
  packets?: number;
  bytes?: number;
}

/** A stored flow: the record and the id the store assigned (increasing, the paging key). */
export interface StoredFlow extends FlowRecord {
  id: number;
}

/**
 * A batch of flow records from one agent, with its counters since it started
 * (monotonic, so the manager sees what the kernel judged even when samples were lost).
 */
export interface FlowBatch {
  records: FlowRecord[];
  /** Kernel events the agent read, sampled deny packets it was handed, records it dropped. */
  counters?: FlowCounters;
}

export interface FlowCounters {
  /** Kernel events read (conntrack new/destroy and NFLOG samples). */
  seen: number;
  /** Deny packets handed to user space (after the kernel's rate limit). */
  sampled: number;
  /** Deny packets the kernel's rate limit kept from user space (exact nft counters). */
  unsampled: number;
  /** Records lost because the agent's buffer was full (manager unreachable). */
  dropped: number;
  /**
   * Exact denied packets by deciding policy and rule, from the kernel's per-rule
   * counters (nftables hosts; docs/adr/0066-per-rule-deny-counters.md): the defaults'
   * as policy '' and rule `default`. Monotonic since the agent started.
   */
  denied?: DeniedCount[];
}

/** Denied packets one deciding policy rule (or the defaults) counted on a host. */
export interface DeniedCount {
  /** '' for the defaults. */
  policy: string;
  /** `egress[N]`, `ingress[N]`, or `default`. */
  rule: string;
  packets: number;
}

/** The side that decided a flow's verdict: the first (egress, then ingress) with that verdict. */
export function decidingSide(
  r: Pick<FlowRecord, 'verdict' | 'egress' | 'ingress'>,
): { direction: 'egress' | 'ingress'; side: FlowSide } | undefined {
  if (r.egress && r.egress.verdict === r.verdict) return { direction: 'egress', side: r.egress };
  if (r.ingress && r.ingress.verdict === r.verdict)
    return { direction: 'ingress', side: r.ingress };
  return undefined;
}

/**
 * The deciding policy and rule of a flow for aggregates and metrics: `policy` is empty
 * and `rule` is `default` when a default decided.
 *
 * @example decision({ verdict: 'deny', egress: { verdict: 'deny', policy: 'p', rule: 'egress[0]' } }) // { policy: 'p', rule: 'egress[0]' }
 */
export function decision(r: Pick<FlowRecord, 'verdict' | 'egress' | 'ingress'>): {
  policy: string;
  rule: string;
} {
  const d = decidingSide(r);
  if (!d || d.side.policy === undefined) return { policy: '', rule: 'default' };
  return { policy: d.side.policy, rule: d.side.rule ?? '' };
}

/**
 * One edge of the observed connectivity graph: the per-minute aggregate summed over a
 * window, keyed by (src identity, dst identity, protocol, port, verdict, deciding
 * policy/rule).
 */
export interface FlowSummaryRow {
  /** Start of the first and of the last minute in the window with such flows (ISO). */
  first: string;
  last: string;
  srcIdentity: number;
  dstIdentity: number;
  protocol: Protocol;
  port: number;
  verdict: FlowVerdict;
  /** Deciding policy ('' for a default) and rule (`default` for a default). */
  policy: string;
  rule: string;
  count: number;
  bytes: number;
}
