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

/**
 * Resolved policies by engine and tags, for one preview (both engines are frozen
 * meanwhile). Resolving is the costly part of grouping (every policy against the
 * tags): each distinct tag set is resolved once per engine — once in all when both
 * engines hold the same policies and partitions (a batch of interfaces), since the
 * resolution depends on nothing else.
 */
export class PolicyMemo {
  private readonly shared: boolean;
  private readonly memo = new Map<string, PolicyJson>();

  constructor(
    private readonly before: Engine,
    after: Engine,
  ) {
    const same = (kind: 'Policy' | 'Partition') =>
      before === after || JSON.stringify(before.list(kind)) === JSON.stringify(after.list(kind));
    this.shared = same('Policy') && same('Partition');
  }

  /** The policy `e` resolves for `tags`, with its JSON. */
  of(e: Engine, tags: Tags): PolicyJson {
    const k = `${this.shared || e === this.before ? 'b' : 'a'}|${canonicalTagsJson(tags)}`;
    let v = this.memo.get(k);
    if (!v) {
      // Without shadow marks: a mark is a function of the rule list, and it decides nothing.
      const policy = e.getPolicyForTags(tags, { shadowing: false });
      v = {
        policy,
        eg: JSON.stringify(policy.egress),
        ing: JSON.stringify(policy.ingress),
        parts: policy.partitions.join(','),
      };
      this.memo.set(k, v);
    }
    return v;
  }
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

/** Group records into classes (see the file comment). */
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
  const recs = new Map<string, { b?: Interface; a?: Interface }>();
  for (const d of before.list('Interface')) recs.set(d.name, { b: d as unknown as Interface });
  for (const d of after.list('Interface'))
    recs.set(d.name, { ...recs.get(d.name), a: d as unknown as Interface });
  for (const [name, { b, a }] of recs) {
    const side = (e: Engine, d: Interface | undefined): Side | undefined => {
      if (!d) return undefined;
      const identity = e.recordIdentity(name);
      const ip = parseIp(d.ips[0]!);
      return identity === undefined || !ip ? undefined : { engine: e, identity, ip };
    };
    const sb = side(before, b);
    const sa = side(after, a);
    const tb = sb && before.identityInfo(sb.identity)!;
    const ta = sa && after.identityInfo(sa.identity)!;
    const moved = !!sb && !!sa && (sb.ip.family !== sa.ip.family || sb.ip.value !== sa.ip.value);
    const status: Klass['status'] = !sb ? 'added' : !sa ? 'removed' : moved ? 'changed' : 'same';
    // Records with equal identities (in each engine an identity number stands for its
    // tags) and CIDR signatures on each side behave alike in both engines (an address
    // matters only through the CIDR peers holding it), so added, removed and moved
    // records group too: the work grows with the distinct behaviours a change
    // creates, not with its records.
    const key = `${sb?.identity ?? '-'}|${sa?.identity ?? '-'}|${sb ? signature(peers, sb.ip) : '-'}|${sa ? signature(peers, sa.ip) : '-'}|${status}`;
    let k = classes.get(key);
    if (!k) {
      k = { key, names: [], world: false, asSrc: false, asDst: false, status };
      if (sb) k.before = sb;
      if (sa) k.after = sa;
      if (status !== 'same' || settingsChanged) {
        k.asSrc = k.asDst = true;
      } else {
        const pb = policies.of(before, tb!.tags);
        const pa = policies.of(after, ta!.tags);
        const partTouched = [...tb!.partitions, ...ta!.partitions].some((p) => partsChanged.has(p));
        const retagged = canonicalTagsJson(tb!.tags) !== canonicalTagsJson(ta!.tags);
        const both = retagged || partTouched || pb.parts !== pa.parts;
        k.asSrc = both || pb.eg !== pa.eg;
        k.asDst = both || pb.ing !== pa.ing;
        if (k.asSrc || k.asDst) k.status = 'changed';
      }
      classes.set(key, k);
    }
    k.names.push(name);
  }
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
