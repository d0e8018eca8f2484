/**
 * Resource types of design.md §1. Resources are flat objects: `name` plus the
 * kind's fields; `revision`, `createdAt`, `updatedAt` are set by the server.
 * Documents (apply, YAML) carry `kind` beside them.
 */

/** A JSON value as stored in a JSON tag (object or array at the top). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** A tag value: string, safe integer, boolean, or a JSON object/array. */
export type TagValue = string | number | boolean | JsonValue[] | { [k: string]: JsonValue };

/** Tags of a record: key → typed value. */
export type Tags = Record<string, TagValue>;

export const KINDS = [
  'Subnet',
  'Instance',
  'Interface',
  'Partition',
  'Policy',
  'Reaction',
  'Settings',
] as const;
export type Kind = (typeof KINDS)[number];

/** Server-set metadata present on every stored resource. */
export interface Meta {
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** A document as held in memory: the resource, with metadata when the server gave it. */
export type HeldDocument = Document & Partial<Meta>;

export interface Subnet {
  name: string;
  /** IPv4 or IPv6 prefix in canonical form (host bits zero). */
  cidr: string;
  /** VXLAN network id, 1..16777215. */
  vni?: number;
}

export interface Instance {
  name: string;
  /** The PEP (agent host name) that runs it. */
  host: string;
  /** Network namespace the agent plumbs attached records into. */
  netns?: string;
}

export interface Interface {
  name: string;
  subnet: string;
  /** 1+ addresses inside the subnet; the first is primary. */
  ips: string[];
  /** Generated (locally administered, stable for the name) when absent. */
  mac?: string;
  securityGroups?: string[];
  tags: Tags;
  /** Attachment: the instance this record is plumbed into. */
  instance?: string;
}

export type IntraDefault = 'allow' | 'deny';

export interface Partition {
  name: string;
  selector: string;
  intra: IntraDefault;
  description?: string;
}

export type Action = 'allow' | 'deny' | 'log';
export type Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp', 'icmp'];

/** A rule peer: exactly one of selector, partition, cidr (with optional except); absent = any. */
export interface Peer {
  selector?: string;
  partition?: string;
  cidr?: string;
  except?: string[];
}

export interface Rule {
  action: Action;
  /** Ingress rules: the source. */
  from?: Peer;
  /** Egress rules: the destination. */
  to?: Peer;
  /** `tcp/443`, `udp/53`, `tcp/8000-8099`, `icmp`, `udp`; absent = all traffic. */
  ports?: string[];
  /** 0..65535: the rule's own priority; absent = its policy's (design.md §2.1). */
  priority?: number;
  description?: string;
}

export interface SteeringRoute {
  to?: Peer;
  ports?: string[];
  /** Name of the interface record traffic is steered through. */
  via: string;
}

export type PolicyMode = 'enforce' | 'audit';

export interface Policy {
  name: string;
  /** 0..65535, higher wins. */
  priority: number;
  appliesTo: string;
  ingress: Rule[];
  egress: Rule[];
  routes: SteeringRoute[];
  mode: PolicyMode;
  description?: string;
}

export interface Reaction {
  name: string;
  /** Event type this reaction fires on. */
  on: string;
  /** Selector on the target's tags. */
  match?: string;
  addTags?: Tags;
  removeTags?: string[];
  /** Seconds; the change undoes itself after. */
  ttl?: number;
}

export interface Settings {
  name: 'default';
  defaults: {
    unpartitioned: IntraDefault;
    crossPartition: IntraDefault;
  };
}

export const DEFAULT_SETTINGS: Settings = {
  name: 'default',
  defaults: { unpartitioned: 'allow', crossPartition: 'deny' },
};

/** Kind name → resource type. */
export interface ResourceByKind {
  Subnet: Subnet;
  Instance: Instance;
  Interface: Interface;
  Partition: Partition;
  Policy: Policy;
  Reaction: Reaction;
  Settings: Settings;
}

export type AnyResource = ResourceByKind[Kind];

/** A resource as stored: with its metadata. */
export type Stored<T> = T & Meta;

/** A document as in YAML/JSON files and `POST /v1/apply`: a resource with its kind. */
export type Document = { [K in Kind]: { kind: K } & ResourceByKind[K] }[Kind];

/** `kind: Test` documents are checked, never stored. */
export interface TestDocument {
  kind: 'Test';
  name: string;
  src: string;
  dst: string;
  proto?: Protocol;
  port?: number;
  expect: 'allow' | 'deny';
}

/** REST path segment for each kind (`/v1/<plural>`). */
export const KIND_PLURAL: Record<Kind, string> = {
  Subnet: 'subnets',
  Instance: 'instances',
  Interface: 'interfaces',
  Partition: 'partitions',
  Policy: 'policies',
  Reaction: 'reactions',
  Settings: 'settings',
};
