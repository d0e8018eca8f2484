/**
 * Impact preview: which flows a change would flip, computed by comparing two
 * engines (before, after) — pure, no I/O.
 *
 * Records are grouped into classes that behave identically in BOTH engines:
 * same identity-relevant tags before and after, the same set of CIDR peers
 * (of either engine's rules) holding their primary address before and after, and
 * the same status (added, removed, moved or kept): records a change adds with the
 * same tags form one class, so the work follows the distinct behaviours, not the
 * number of records. Flows
 * between two classes that are both *untouched* cannot change: their tags,
 * resolved rules, partitions and CIDR matches are equal in both engines, and so
 * are partition defaults unless a partition's `intra` or the settings changed
 * (which touches every class concerned). So only pairs with a touched class are
 * compared, by `flowTable` segments in each engine.
 *
 * A class touched only on its egress rules is compared as a source only, and
 * one touched only on ingress as a destination only. Addresses outside every
 * record ("world") matter only through CIDR peers: one representative address
 * per distinct CIDR-peer signature is compared against touched classes.
 *
 * A record absent from one engine has no flows there: its verdicts count as
 * `deny` on that side (so a new record shows what it may now reach).
 */
import { cidrContains, parseCidr, type Cidr } from '../../model/net.js';
import type { Protocol, Settings } from '../../model/types.js';
import { compileSelectorCached } from '../../selector/index.js';
import type { Engine } from '../engine.js';
import { pairDefault } from '../verdict/pair-default.js';
import type { FlowSegment } from '../types.js';
import {
  cidrPeers,
  endpoint,
  PolicyMemo,
  recordClasses,
  table,
  worldClasses,
  type ImpactEndpoint,
  type Klass,
  type Side,
} from './behaviour-classes.js';

export type { ImpactEndpoint } from './behaviour-classes.js';

/** A port range whose verdict the change flips. */
export interface ImpactRow {
  src: ImpactEndpoint;
  dst: ImpactEndpoint;
  proto: Protocol;
  ports: [number, number];
  before: 'allow' | 'deny';
  after: 'allow' | 'deny';
}

export interface ImpactPreview {
  rows: ImpactRow[];
  /** Rows after this page (left out past `offset + limit`). */
  truncated: number;
  /** Rows in all (every page). */
  total: number;
  /** Class pairs compared (a measure of the work done). */
  pairs: number;
}

export interface ImpactOptions {
  /** Most rows returned (default 1000). */
  limit?: number;
  /** Rows skipped first, for the next page (default 0). */
  offset?: number;
  /** Record names listed per endpoint (default 5). */
  examples?: number;
}

/** Segments where two verdict tables differ (undefined = deny everywhere). */
function flips(
  b: FlowSegment[] | undefined,
  a: FlowSegment[] | undefined,
): {
  proto: Protocol;
  lo: number;
  hi: number;
  before: 'allow' | 'deny';
  after: 'allow' | 'deny';
}[] {
  const out: ReturnType<typeof flips> = [];
  const none: FlowSegment[] = [];
  const sb = b ?? none;
  const sa = a ?? none;
  // Both tables are sorted by protocol then port and cover each protocol they
  // mention: walk them together (a missing protocol or table is deny).
  for (const proto of PROTOS) {
    let i = sb.findIndex((x) => x.proto === proto);
    let j = sa.findIndex((x) => x.proto === proto);
    let lo = 0;
    while (lo <= 65535) {
      const x = i >= 0 && i < sb.length && sb[i]!.proto === proto ? sb[i]! : undefined;
      const y = j >= 0 && j < sa.length && sa[j]!.proto === proto ? sa[j]! : undefined;
      const hi = Math.min(x?.hi ?? 65535, y?.hi ?? 65535);
      const vb = x?.verdict ?? 'deny';
      const va = y?.verdict ?? 'deny';
      if (vb !== va) {
        const last = out[out.length - 1];
        if (
          last &&
          last.proto === proto &&
          last.hi + 1 === lo &&
          last.before === vb &&
          last.after === va
        )
          last.hi = hi;
        else out.push({ proto, lo, hi, before: vb, after: va });
      }
      if (x && x.hi === hi) i++;
      if (y && y.hi === hi) j++;
      lo = hi + 1;
    }
  }
  return out;
}

const PROTOS: Protocol[] = ['tcp', 'udp', 'sctp', 'icmp'];

/**
 * Memo keys for pair tables. A pair's `flowTable` is determined by: the source's
 * egress rules, which of them match the destination, the destination's ingress
 * rules, which of them match the source, and the pair default. Pairs with equal
 * keys have equal tables, so only one representative per key is computed — the
 * difference between quadratic `flowTable` calls and a few thousand.
 */
class PairKeyer {
  private readonly sigIds = new Map<string, number>();
  private readonly matchers: ((k: Klass, side: Side) => boolean)[][] = [];
  private readonly classIds = new Map<Klass, number>();

  private classId(k: Klass): number {
    let id = this.classIds.get(k);
    if (id === undefined) this.classIds.set(k, (id = this.classIds.size));
    return id;
  }

  private readonly sideCache = new Map<string, number>();
  private readonly maskIds = new Map<string, number>();
  private readonly maskCache = new Map<number, number>();
  /** Per class and engine: [egress sig, ingress sig, partitions id]. */
  private readonly classSigs = new Map<Klass, number[]>();
  private readonly partIds = new Map<string, number>();
  private readonly defaults = new Map<number, string>();

  constructor(private readonly policies: PolicyMemo) {}

  /** Interned id of a side's rule list. */
  private sig(side: Side, dir: 'egress' | 'ingress', tag: string): number {
    const key = `${tag}|${side.identity}|${dir}`;
    let id = this.sideCache.get(key);
    if (id !== undefined) return id;
    const info = side.engine.identityInfo(side.identity)!;
    const resolved = this.policies.of(side.engine, info.tags);
    const rules = resolved.policy[dir];
    const json = dir === 'egress' ? resolved.eg : resolved.ing;
    id = this.sigIds.get(json);
    if (id === undefined) {
      id = this.sigIds.size;
      this.sigIds.set(json, id);
      this.matchers[id] = rules.map((r) => {
        const peer = r.peer;
        if (peer === 'any') return () => true;
        if (peer.selector !== undefined) {
          const pred = compileSelectorCached(peer.selector);
          return (_k: Klass, s: Side) => pred(s.engine.identityInfo(s.identity)!.tags);
        }
        if (peer.partition !== undefined) {
          const name = peer.partition;
          return (_k: Klass, s: Side) =>
            s.engine.identityInfo(s.identity)!.partitions.includes(name);
        }
        const c = peer.cidr !== undefined ? parseCidr(peer.cidr) : undefined;
        const ex = (peer.except ?? []).map(parseCidr).filter((x): x is Cidr => !!x);
        return (_k: Klass, s: Side) =>
          !!c && cidrContains(c, s.ip) && !ex.some((x) => cidrContains(x, s.ip));
      });
    }
    this.sideCache.set(key, id);
    return id;
  }

  /** [egress, ingress, partitions] ids of a class: before at 0..2, after at 3..5. */
  private sigs(k: Klass, side: Side, which: 'before' | 'after'): number[] {
    const slot = which === 'before' ? 0 : 3;
    let v = this.classSigs.get(k);
    if (!v) this.classSigs.set(k, (v = [-1, -1, -1, -1, -1, -1]));
    if (v[slot]! < 0) {
      v[slot] = this.sig(side, 'egress', which);
      v[slot + 1] = this.sig(side, 'ingress', which);
      const parts = `${which}|${side.engine.identityInfo(side.identity)!.partitions.join(',')}`;
      let pid = this.partIds.get(parts);
      if (pid === undefined) this.partIds.set(parts, (pid = this.partIds.size));
      v[slot + 2] = pid;
    }
    return v;
  }

  /** Interned id of which rules of side `sig` match peer class `k`. */
  private mask(sig: number, k: Klass, side: Side): number {
    const key = sig * 4_194_304 + this.classId(k) * 2 + (side === k.before ? 0 : 1);
    let id = this.maskCache.get(key);
    if (id === undefined) {
      let m = `${sig}:`;
      for (const f of this.matchers[sig]!) m += f(k, side) ? '1' : '0';
      id = this.maskIds.get(m);
      if (id === undefined) this.maskIds.set(m, (id = this.maskIds.size));
      this.maskCache.set(key, id);
    }
    return id;
  }

  /** The key of pair (s, d) in one engine (a number), or -1 when an endpoint is absent. */
  key(s: Klass, d: Klass, which: 'before' | 'after'): number {
    const ss = s[which];
    const ds = d[which];
    if (!ss || !ds) return -1;
    const o = which === 'before' ? 0 : 3;
    const sv = this.sigs(s, ss, which);
    const dv = this.sigs(d, ds, which);
    const eg = sv[o]!;
    const pa = sv[o + 2]!;
    const ing = dv[o + 1]!;
    const pb = dv[o + 2]!;
    const dk = pa * 67_108_864 + pb;
    let def = this.defaults.get(dk);
    if (def === undefined) this.defaults.set(dk, (def = sideDefault(ss, ds)));
    // Mask ids stay far below 2^25: the key is an exact integer.
    return (
      (this.mask(eg, d, ds) * 33_554_432 + this.mask(ing, s, ss)) * 2 + (def === 'deny' ? 1 : 0)
    );
  }
}

/** §2.2 default of a pair of record sides (both of one engine), as that engine decides it. */
function sideDefault(a: Side, b: Side): 'allow' | 'deny' {
  const e = a.engine;
  const settings = e.get('Settings', 'default') as Settings & { kind: 'Settings' };
  const intraOf = (name: string) => {
    const doc = e.get('Partition', name);
    return doc?.kind === 'Partition' ? doc.intra : undefined;
  };
  return pairDefault(
    e.identityInfo(a.identity)!.partitions,
    e.identityInfo(b.identity)!.partitions,
    intraOf,
    settings.defaults,
  ).verdict;
}

/** Class pairs compared between two yields of `impactSteps`. */
const PAIRS_PER_STEP = 256;

type Flip = ReturnType<typeof flips>[number];

/** A class pair whose verdicts flip, with its flips. */
interface Hit {
  s: Klass;
  d: Klass;
  f: Flip[];
}

/**
 * Flows whose verdict differs between two engines.
 *
 * @example
 *   const after = engine.fork(); after.apply(changes, now);
 *   previewImpact(engine, after).rows
 *   // [{ src: { identity: 300, tags: { app: 'web' }, records: 12, … }, dst: {…}, proto: 'tcp', ports: [5432, 5432], before: 'allow', after: 'deny' }]
 */
export function previewImpact(
  before: Engine,
  after: Engine,
  opts: ImpactOptions = {},
): ImpactPreview {
  const steps = impactSteps(before, after, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * `previewImpact` in steps: the generator yields every few hundred class pairs so a
 * caller can give the event loop a turn (the engine keeps no clock: the server
 * decides when). Neither engine may change until it returns.
 *
 * Work: O(records) to group records into classes, then O(touched classes × classes)
 * pair comparisons memoised by pair key; the rows built are only the page asked for
 * (`offset`, `limit`), however many flows flip.
 *
 * @example
 *   const steps = impactSteps(before, after, { limit: 100 });
 *   let r = steps.next(); while (!r.done) { await turn(); r = steps.next(); }
 */
export function* impactSteps(
  before: Engine,
  after: Engine,
  opts: ImpactOptions = {},
): Generator<void, ImpactPreview> {
  const peers = cidrPeers([before, after]);
  const policies = new PolicyMemo(before, after);
  const records = recordClasses(before, after, peers, policies);
  const world = peers.length > 0 ? worldClasses(before, after, peers) : [];
  const all = [...records, ...world];
  yield;
  let pairs = 0;
  let total = 0;
  let steps = 0;
  const keyer = new PairKeyer(policies);
  const hits = new Map<number, Hit[]>();
  const memo = new Map<number, Map<number, Flip[]>>();
  const compare = (s: Klass, d: Klass) => {
    if (s.world && d.world) return;
    // A record talking to itself is always allowed: a one-record class has no pair with itself.
    if (s === d && s.names.length === 1) return;
    pairs++;
    let f: Flip[] | undefined;
    if (s.world || d.world) {
      f = flips(table(s.before, d.before), table(s.after, d.after));
    } else {
      const kb = keyer.key(s, d, 'before');
      let inner = memo.get(kb);
      if (!inner) memo.set(kb, (inner = new Map()));
      const ka = keyer.key(s, d, 'after');
      f = inner.get(ka);
      if (!f) inner.set(ka, (f = flips(table(s.before, d.before), table(s.after, d.after))));
    }
    if (f.length === 0) return;
    total += f.length;
    const w =
      Math.max(s.names.length * (s.world ? 0 : 1), 1) * Math.max(d.world ? 1 : d.names.length, 1);
    let bucket = hits.get(w);
    if (!bucket) hits.set(w, (bucket = []));
    bucket.push({ s, d, f });
  };
  // Only pairs with a touched end can flip: touched sources × every class, then the
  // other sources × touched destinations (each pair once).
  const isSrc = (k: Klass) => k.asSrc && !k.world;
  const dsts = all.filter((k) => k.asDst && !k.world);
  for (const s of all) {
    for (const d of isSrc(s) ? all : dsts) {
      compare(s, d);
      if (++steps % PAIRS_PER_STEP === 0) yield;
    }
  }
  const rows = pageRows(hits, opts.offset ?? 0, opts.limit ?? 1000, opts.examples ?? 5);
  return { rows, truncated: Math.max(0, total - (opts.offset ?? 0) - rows.length), total, pairs };
}

const byProtoThenPort = (x: Flip, y: Flip) =>
  (x.proto < y.proto ? -1 : x.proto > y.proto ? 1 : 0) || x.lo - y.lo;

/**
 * Rows `offset … offset + limit` in report order: heaviest class pairs (records × records)
 * first, then by source and destination identity, protocol and port. Only those rows
 * become objects.
 */
function pageRows(
  hits: Map<number, Hit[]>,
  offset: number,
  limit: number,
  examples: number,
): ImpactRow[] {
  const rows: ImpactRow[] = [];
  const endpoints = new Map<Klass, ImpactEndpoint>();
  const endpointOf = (k: Klass) => {
    let e = endpoints.get(k);
    if (!e) endpoints.set(k, (e = endpoint(k, examples)));
    return e;
  };
  const ident = (k: Klass) => (k.after ?? k.before)!.identity;
  let skip = offset;
  for (const w of [...hits.keys()].sort((a, b) => b - a)) {
    const bucket = hits.get(w)!;
    bucket.sort(
      (x, y) =>
        ident(x.s) - ident(y.s) ||
        ident(x.d) - ident(y.d) ||
        (x.s.key < y.s.key ? -1 : x.s.key > y.s.key ? 1 : 0) ||
        (x.d.key < y.d.key ? -1 : x.d.key > y.d.key ? 1 : 0),
    );
    for (const { s, d, f } of bucket) {
      if (skip >= f.length) {
        skip -= f.length;
        continue;
      }
      const src = endpointOf(s);
      const dst = endpointOf(d);
      for (const x of [...f].sort(byProtoThenPort).slice(skip)) {
        if (rows.length >= limit) return rows;
        rows.push({
          src,
          dst,
          proto: x.proto,
          ports: [x.lo, x.hi],
          before: x.before,
          after: x.after,
        });
      }
      skip = 0;
    }
    if (rows.length >= limit) break;
  }
  return rows;
}
