/**
 * Behaviour classes, shared by the impact preview (./impact.ts) and who-can-reach
 * (./who-can-reach.ts): records grouped so that every member behaves identically in
 * both engines (same relevant tags, same CIDR peers holding their primary address,
 * same status), and one representative outside address per distinct CIDR-peer
 * signature. Pure.
 */
import { IDENTITY_WORLD } from '../../model/host-state.js';
import {
  cidrContains,
  cidrLast,
  formatIp,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
} from '../../model/net.js';
import { stripMeta } from '../../model/strip-meta.js';
import { canonicalTagsJson } from '../../model/tags.js';
import type { Interface, Policy, Tags } from '../../model/types.js';
import type { Engine } from '../engine.js';
import type { ResolvedPolicy } from '../types.js';
import type { FlowSegment } from '../types.js';

/** One side of an impact row. */
export interface ImpactEndpoint {
  /** Identity in the after-state (before-state for a removed record; 1 = world). */
  identity: number;
  tags: Tags;
  /** How many records behave this way (0 for world). */
  records: number;
  /** The first record names (sorted; `examples` of them, default 5). */
  examples: string[];
  /** For world: the representative outside address. */
  address?: string;
  /** `added`/`removed` records, `changed` (rules, tags, partitions or address), `same`. */
  status: 'added' | 'removed' | 'changed' | 'same';
}

export interface Side {
  engine: Engine;
  identity: number;
  ip: Ip;
}

export interface Klass {
  key: string;
  before?: Side;
  after?: Side;
  names: string[];
  world: boolean;
  /** Compare as source / as destination. */
  asSrc: boolean;
  asDst: boolean;
  status: ImpactEndpoint['status'];
}

export interface CidrPeer {
  cidr: Cidr;
  except: Cidr[];
}

/** CIDR peers of every rule of both engines. */
export function cidrPeers(engines: Engine[]): CidrPeer[] {
  const seen = new Map<string, CidrPeer>();
  for (const e of engines)
    for (const p of e.list('Policy') as unknown as Policy[])
      for (const r of [...p.ingress, ...p.egress, ...(p.routes ?? [])]) {
        const peer = 'action' in r ? (r.from ?? r.to) : r.to;
        if (!peer?.cidr) continue;
        const key = `${peer.cidr}|${(peer.except ?? []).join(',')}`;
        const cidr = parseCidr(peer.cidr);
        if (!cidr || seen.has(key)) continue;
        seen.set(key, {
          cidr,
          except: (peer.except ?? []).map(parseCidr).filter((c): c is Cidr => !!c),
        });
      }
  return [...seen.values()];
}

export function signature(peers: CidrPeer[], ip: Ip): string {
  let key = '';
  peers.forEach((p, i) => {
    if (cidrContains(p.cidr, ip) && !p.except.some((x) => cidrContains(x, ip))) key += `${i},`;
  });
  return key;
}

/** A resolved policy with its rule lists as JSON (what classes and pair keys compare). */
export interface PolicyJson {
  policy: ResolvedPolicy;
  eg: string;
  ing: string;
  parts: string;
}

/** Most tag sets one policy generation's memo holds before it starts afresh. */
const MEMO_MAX = 20_000;

/** Resolved policies by policy generation (Engine.policyGeneration), then canonical tags. */
const resolvedByGeneration = new WeakMap<object, Map<string, PolicyJson>>();

/**
 * Resolved policies by engine and tags. Resolving is the costly part of grouping
 * (every policy against the tags), and it depends on the Policy and Partition
 * documents alone: each distinct tag set is resolved once per policy generation —
 * once for both engines of a preview of a batch that changes neither (a batch of
 * interfaces), and once across the previews and forks of a model until a policy or
 * partition changes. The memo lives as long as its generation (the live model's, or
 * a fork's) and holds at most MEMO_MAX tag sets (fewer than identities exist).
 */
export class PolicyMemo {
  private readonly memoBefore: Map<string, PolicyJson>;
  private readonly memoAfter: Map<string, PolicyJson>;

  constructor(
    private readonly before: Engine,
    after: Engine,
  ) {
    this.memoBefore = memoOf(before);
    this.memoAfter = memoOf(after);
  }

  /** The policy `e` resolves for `tags`, with its JSON. */
  of(e: Engine, tags: Tags): PolicyJson {
    const memo = e === this.before ? this.memoBefore : this.memoAfter;
    const k = canonicalTagsJson(tags);
    let v = memo.get(k);
    if (!v) {
      // Without shadow marks: a mark is a function of the rule list, and it decides nothing.
      const policy = e.getPolicyForTags(tags, { shadowing: false });
      v = {
        policy,
        eg: JSON.stringify(policy.egress),
        ing: JSON.stringify(policy.ingress),
        parts: policy.partitions.join(','),
      };
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(k, v);
    }
    return v;
  }
}

function memoOf(e: Engine): Map<string, PolicyJson> {
  const generation = e.policyGeneration();
  let memo = resolvedByGeneration.get(generation);
  if (!memo) resolvedByGeneration.set(generation, (memo = new Map()));
  return memo;
}

/** Documents of a kind as name → canonical JSON. */
export function docMap(e: Engine, kind: 'Partition' | 'Settings'): Map<string, string> {
  return new Map(
    e.list(kind).map((d) => [d.name, canonicalTagsJson(stripMeta(d) as unknown as Tags)]),
  );
}

/** Partition names whose document differs between the engines. */
export function changedPartitions(before: Engine, after: Engine): Set<string> {
  const a = docMap(before, 'Partition');
  const b = docMap(after, 'Partition');
  const out = new Set<string>();
  for (const n of new Set([...a.keys(), ...b.keys()])) if (a.get(n) !== b.get(n)) out.add(n);
  return out;
}

/** A record in one engine: its identity and primary address (undefined: unusable there). */
type Held = Readonly<{ identity: number; ips: readonly Ip[] }> | undefined;

/**
 * Group records into classes (see the file comment). O(records) from the engines'
 * compiled records (identity and parsed primary address), not their documents: no
 * listing, sorting or address parsing per record, and the CIDR signature of a record
 * whose address is the same object in both engines (a fork shares unchanged records'
 * addresses) is computed once. Per-class work (sides, tags, policies) is done once per
 * class. The order of the classes and of their names is the records' map order;
 * callers order what they report (`endpoint` sorts examples, `pageRows` sorts rows).
 */
export function recordClasses(
  before: Engine,
  after: Engine,
  peers: CidrPeer[],
  policies = new PolicyMemo(before, after),
): Klass[] {
  const classes = new Map<string, Klass>();
  const settingsChanged =
    docMap(before, 'Settings').get('default') !== docMap(after, 'Settings').get('default');
  const partsChanged = changedPartitions(before, after);
  const sig = (ip: Ip) => (peers.length === 0 ? '' : signature(peers, ip));
  const visit = (name: string, b: Held, a: Held) => {
    const ipB = b?.ips[0];
    const ipA = a?.ips[0];
    const hasB = b !== undefined && ipB !== undefined;
    const hasA = a !== undefined && ipA !== undefined;
    const moved = hasB && hasA && (ipB.family !== ipA.family || ipB.value !== ipA.value);
    const status: Klass['status'] = !hasB
      ? 'added'
      : !hasA
        ? 'removed'
        : moved
          ? 'changed'
          : 'same';
    const sigB = hasB ? sig(ipB) : '-';
    const sigA = !hasA ? '-' : hasB && ipA === ipB ? sigB : sig(ipA);
    // Records with equal identities (in each engine an identity number stands for its
    // tags) and CIDR signatures on each side behave alike in both engines (an address
    // matters only through the CIDR peers holding it), so added, removed and moved
    // records group too: the work grows with the distinct behaviours a change
    // creates, not with its records.
    const key = `${hasB ? b.identity : '-'}|${hasA ? a.identity : '-'}|${sigB}|${sigA}|${status}`;
    let k = classes.get(key);
    if (!k) {
      k = { key, names: [], world: false, asSrc: false, asDst: false, status };
      if (hasB) k.before = { engine: before, identity: b.identity, ip: ipB };
      if (hasA) k.after = { engine: after, identity: a.identity, ip: ipA };
      if (status !== 'same' || settingsChanged) {
        k.asSrc = k.asDst = true;
      } else {
        const tb = before.identityInfo(b!.identity)!;
        const ta = after.identityInfo(a!.identity)!;
        const pb = policies.of(before, tb.tags);
        const pa = policies.of(after, ta.tags);
        const partTouched = [...tb.partitions, ...ta.partitions].some((p) => partsChanged.has(p));
        const retagged = canonicalTagsJson(tb.tags) !== canonicalTagsJson(ta.tags);
        const both = retagged || partTouched || pb.parts !== pa.parts;
        k.asSrc = both || pb.eg !== pa.eg;
        k.asDst = both || pb.ing !== pa.ing;
        if (k.asSrc || k.asDst) k.status = 'changed';
      }
      classes.set(key, k);
    }
    k.names.push(name);
  };
  const inBefore = before.records();
  const inAfter = after.records();
  for (const [name, b] of inBefore) visit(name, b, inAfter.get(name));
  for (const [name, a] of inAfter) if (!inBefore.has(name)) visit(name, undefined, a);
  return [...classes.values()];
}

/** Representative outside addresses, one per CIDR-peer signature. */
export function worldClasses(before: Engine, after: Engine, peers: CidrPeer[]): Klass[] {
  const held = new Set<string>();
  for (const e of [before, after])
    for (const d of e.list('Interface'))
      for (const a of (d as unknown as Interface).ips) {
        const ip = parseIp(a);
        if (ip) held.add(formatIp(ip));
      }
  const candidates: Ip[] = [];
  const push = (family: Ip['family'], value: bigint) => {
    const bits = family === 4 ? 32n : 128n;
    if (value >= 0n && value < 1n << bits) candidates.push({ family, value } as Ip);
  };
  for (const p of peers)
    for (const c of [p.cidr, ...p.except]) {
      push(c.family, c.base);
      push(c.family, cidrLast(c) + 1n);
    }
  const bySig = new Map<string, Klass>();
  for (const ip of candidates) {
    const text = formatIp(ip);
    if (held.has(text)) continue;
    const sig = `${ip.family}:${signature(peers, ip)}`;
    if (bySig.has(sig)) continue;
    const side: Side = { engine: before, identity: IDENTITY_WORLD, ip };
    bySig.set(sig, {
      key: `world|${sig}`,
      before: side,
      after: { ...side, engine: after },
      names: [text],
      world: true,
      asSrc: false,
      asDst: false,
      status: 'same',
    });
  }
  return [...bySig.values()];
}

export function table(src: Side | undefined, dst: Side | undefined): FlowSegment[] | undefined {
  if (!src || !dst) return undefined;
  return src.engine.flowTable(
    { identity: src.identity, ip: src.ip },
    { identity: dst.identity, ip: dst.ip },
  );
}

export function endpoint(k: Klass, examples: number): ImpactEndpoint {
  const side = (k.after ?? k.before)!;
  const info = k.world ? undefined : side.engine.identityInfo(side.identity);
  return {
    identity: side.identity,
    tags: info?.tags ?? {},
    records: k.world ? 0 : k.names.length,
    examples: k.world ? [] : [...k.names].sort().slice(0, examples),
    ...(k.world ? { address: k.names[0]! } : {}),
    status: k.status,
  };
}
