/**
 * What one PEP needs to enforce (design.md §3–§4): the wire form the manager sends
 * an agent. Already precedence-resolved and disjoint, so the agent renders it
 * without knowing §2: per (local identity, direction, peer, protocol) port ranges
 * that never overlap, each with its final verdict.
 *
 * Lookup order a PEP must follow for a packet between local identity L and a peer
 * (identity P, address A), protocol, port (0 for icmp):
 *   1. `cidr` entries of L's side whose range holds A, proto and port → verdict;
 *   2. else `peers` entries for P → verdict;
 *   3. else `any` entries → verdict;
 *   4. else the default: `defaults.peers[P]` if listed, else `defaults.other`.
 * The side of an address outside every record is not evaluated (P = 1, world).
 *
 * Steering (docs/adr/0008-steering.md): a new connection from local identity L that the
 * verdict allows is looked up the same way (cidr, peers, any) in the `routes` of L's
 * egress side; a hit names its steer class (`steering` gives the via record).
 */
import type { Protocol } from './types.js';

/** Verdict of a side: `log` allows and records the flow. */
export type SideVerdict = 'allow' | 'deny' | 'log';

/** Inclusive port range; icmp uses [0, 0]... [0, 65535] for "all". */
export type PortRange = readonly [lo: number, hi: number];

/** One disjoint, final entry. `policy`/`rule` name the deciding rule (for log prefixes). */
export interface SideEntry {
  proto: Protocol;
  ports: PortRange;
  verdict: SideVerdict;
  policy: string;
  /** `egress[2]` or `ingress[0]`. */
  rule: string;
}

export interface CidrEntry extends SideEntry {
  /** Inclusive address range, `a.b.c.d-e.f.g.h` or a prefix `a.b.c.d/n`. */
  range: string;
}

export interface PeerEntry extends SideEntry {
  peer: number;
}

export type Direction = 'ingress' | 'egress';

export interface SideState {
  identity: number;
  direction: Direction;
  cidr: CidrEntry[];
  peers: PeerEntry[];
  any: SideEntry[];
  /**
   * Egress sides only, present when some route applies to the identity: where its
   * new connections are steered (design.md §1 `routes[]`, docs/adr/0008-steering.md).
   * Same lookup order as the verdict entries; no entry = not steered.
   */
  routes?: SteeringEntries;
}

/** One disjoint, final steering entry: matching traffic goes through steer class `steer`. */
export interface SteeringEntry {
  proto: Protocol;
  ports: PortRange;
  /** Steer class (see {@link SteerClass}); 0: the deciding route steers nowhere (inert). */
  steer: number;
  policy: string;
  /** `routes[0]`. */
  route: string;
}

/** Disjoint route entries of a local identity, looked up like a SideState. */
export interface SteeringEntries {
  cidr: (SteeringEntry & { range: string })[];
  peers: (SteeringEntry & { peer: number })[];
  any: SteeringEntry[];
}

/**
 * A steer class: the number a steered packet carries as its mark (and VXLAN-GBP
 * Group Policy ID) on its way to the via record. The same on every host and manager.
 */
export interface SteerClass {
  class: number;
  /** The via interface record (its addresses and host are in locals/remotes when attached). */
  via: string;
}

/** Default verdict of a local identity towards its peers (§2.2), the same on both sides. */
export interface DefaultState {
  identity: number;
  /** Verdict for peers not listed (including world, identity 1). */
  other: 'allow' | 'deny';
  /** Peers whose default differs from `other`. */
  peers: { peer: number; verdict: 'allow' | 'deny' }[];
}

export interface LocalRecord {
  name: string;
  identity: number;
  ips: string[];
  mac: string;
  subnet: string;
  cidr: string;
  vni?: number;
  instance: string;
  netns?: string;
}

export interface RemoteRecord {
  name: string;
  identity: number;
  ips: string[];
  mac: string;
  subnet: string;
  vni?: number;
  /** PEP host that runs it (the manager maps it to the host's underlay address). */
  host: string;
  /** Underlay address of that host (VXLAN destination), when the manager knows it. */
  underlay?: string;
}

export interface IpcacheEntry {
  ip: string;
  identity: number;
}

/** The full desired state of one host at a revision. */
export interface HostState {
  host: string;
  revision: number;
  locals: LocalRecord[];
  remotes: RemoteRecord[];
  ipcache: IpcacheEntry[];
  sides: SideState[];
  defaults: DefaultState[];
  /** Steer classes of every via record some route names, by class; absent when none. */
  steering?: SteerClass[];
}

/** Reserved identities: 1..255. */
export const IDENTITY_WORLD = 1;
export const IDENTITY_FIRST_ALLOCATED = 256;
/** Steer classes live in the reserved range: 2..255 (at most 254 via records). */
export const STEER_CLASS_FIRST = 2;
export const STEER_CLASS_LAST = 255;
/** VXLAN-GBP carries 16 bits. */
export const IDENTITY_MAX = 65535;
