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
  before: FlowSegment[] | undefined,
  after: FlowSegment[] | undefined,
): {
  proto: Protocol;
  lo: number;
  hi: number;
  before: 'allow' | 'deny';
  after: 'allow' | 'deny';
}[] {
  const out: ReturnType<typeof flips> = [];
  const none: FlowSegment[] = [];
  const beforeTable = before ?? none;
  const afterTable = after ?? none;
  // Both tables are sorted by protocol then port and cover each protocol they
  // mention: walk them together (a missing protocol or table is deny).
  for (const proto of PROTOS) {
    let i = beforeTable.findIndex((x) => x.proto === proto);
    let j = afterTable.findIndex((x) => x.proto === proto);
    let lo = 0;
    while (lo <= 65535) {
      const segmentBefore =
        i >= 0 && i < beforeTable.length && beforeTable[i]!.proto === proto
          ? beforeTable[i]!
          : undefined;
      const segmentAfter =
        j >= 0 && j < afterTable.length && afterTable[j]!.proto === proto
          ? afterTable[j]!
          : undefined;
      const hi = Math.min(segmentBefore?.hi ?? 65535, segmentAfter?.hi ?? 65535);
      const verdictBefore = segmentBefore?.verdict ?? 'deny';
      const verdictAfter = segmentAfter?.verdict ?? 'deny';
      if (verdictBefore !== verdictAfter) {
        const last = out[out.length - 1];
        if (
          last &&
          last.proto === proto &&
          last.hi + 1 === lo &&
          last.before === verdictBefore &&
          last.after === verdictAfter
        )
          last.hi = hi;
        else out.push({ proto, lo, hi, before: verdictBefore, after: verdictAfter });
      }
      if (segmentBefore && segmentBefore.hi === hi) i++;
      if (segmentAfter && segmentAfter.hi === hi) j++;
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
  /** Per side signature: its rules' names (`policy/egress[0]`), in order. */
  private readonly ruleNames: string[][] = [];
  private readonly classIds = new Map<Klass, number>();

  private classId(klass: Klass): number {
    let id = this.classIds.get(klass);
    if (id === undefined) this.classIds.set(klass, (id = this.classIds.size));
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
      this.ruleNames[id] = rules.map((rule) => `${rule.policy}/${rule.rule}`);
      this.matchers[id] = rules.map((rule) => {
        const peer = rule.peer;
        if (peer === 'any') return () => true;
        if (peer.selector !== undefined) {
          const pred = compileSelectorCached(peer.selector);
          return (_k: Klass, candidate: Side) =>
            pred(candidate.engine.identityInfo(candidate.identity)!.tags);
        }
        if (peer.partition !== undefined) {
          const name = peer.partition;
          return (_k: Klass, candidate: Side) =>
            candidate.engine.identityInfo(candidate.identity)!.partitions.includes(name);
        }
        const range = peer.cidr !== undefined ? parseCidr(peer.cidr) : undefined;
        const excepted = (peer.except ?? []).map(parseCidr).filter((cidr): cidr is Cidr => !!cidr);
        return (_k: Klass, candidate: Side) =>
          !!range &&
          cidrContains(range, candidate.ip) &&
          !excepted.some((cidr) => cidrContains(cidr, candidate.ip));
      });
    }
    this.sideCache.set(key, id);
    return id;
  }

  /** [egress, ingress, partitions] ids of a class: before at 0..2, after at 3..5. */
  private sigs(klass: Klass, side: Side, which: 'before' | 'after'): number[] {
    const slot = which === 'before' ? 0 : 3;
    let ids = this.classSigs.get(klass);
    if (!ids) this.classSigs.set(klass, (ids = [-1, -1, -1, -1, -1, -1]));
    if (ids[slot]! < 0) {
      ids[slot] = this.sig(side, 'egress', which);
      ids[slot + 1] = this.sig(side, 'ingress', which);
      const parts = `${which}|${side.engine.identityInfo(side.identity)!.partitions.join(',')}`;
      let partitionsId = this.partIds.get(parts);
      if (partitionsId === undefined) this.partIds.set(parts, (partitionsId = this.partIds.size));
      ids[slot + 2] = partitionsId;
    }
    return ids;
  }

  /**
   * Interned id of the rules of side `sig` that match peer class `k`, by name: only
   * those can decide for that peer (the others never match it), so sides that differ
   * only in rules the peer does not match share an id — with no rule matching, every
   * side does. (Names are of one engine: a before key is compared with before keys only.)
   */
  private mask(sig: number, klass: Klass, side: Side): number {
    const key = sig * 4_194_304 + this.classId(klass) * 2 + (side === klass.before ? 0 : 1);
    let id = this.maskCache.get(key);
    if (id === undefined) {
      const names = this.ruleNames[sig]!;
      const matchers = this.matchers[sig]!;
      let pattern = '';
      for (let i = 0; i < matchers.length; i++)
        if (matchers[i]!(klass, side)) pattern += `${names[i]!},`;
      id = this.maskIds.get(pattern);
      if (id === undefined) this.maskIds.set(pattern, (id = this.maskIds.size));
      this.maskCache.set(key, id);
    }
    return id;
  }

  /** The key of pair (srcClass, dstClass) in one engine (a number), or -1 when an endpoint is absent. */
  key(srcClass: Klass, dstClass: Klass, which: 'before' | 'after'): number {
    const srcSide = srcClass[which];
    const dstSide = dstClass[which];
    if (!srcSide || !dstSide) return -1;
    const slot = which === 'before' ? 0 : 3;
    const srcSignatures = this.sigs(srcClass, srcSide, which);
    const dstSignatures = this.sigs(dstClass, dstSide, which);
    const egressSignature = srcSignatures[slot]!;
    const srcPartitions = srcSignatures[slot + 2]!;
    const ingressSignature = dstSignatures[slot + 1]!;
    const dstPartitions = dstSignatures[slot + 2]!;
    const defaultKey = srcPartitions * 67_108_864 + dstPartitions;
    let byDefault = this.defaults.get(defaultKey);
    if (byDefault === undefined)
      this.defaults.set(defaultKey, (byDefault = sideDefault(srcSide, dstSide)));
    // Mask ids stay far below 2^25: the key is an exact integer.
    return (
      (this.mask(egressSignature, dstClass, dstSide) * 33_554_432 +
        this.mask(ingressSignature, srcClass, srcSide)) *
        2 +
      (byDefault === 'deny' ? 1 : 0)
    );
  }
}

/** §2.2 default of a pair of record sides (both of one engine), as that engine decides it. */
function sideDefault(a: Side, b: Side): 'allow' | 'deny' {
  const engine = a.engine;
  const settings = engine.get('Settings', 'default') as Settings & { kind: 'Settings' };
  const intraOf = (name: string) => {
    const doc = engine.get('Partition', name);
    return doc?.kind === 'Partition' ? doc.intra : undefined;
  };
  return pairDefault(
    engine.identityInfo(a.identity)!.partitions,
    engine.identityInfo(b.identity)!.partitions,
    intraOf,
    settings.defaults,
  ).verdict;
}

/** Class pairs compared between two yields of `impactSteps`. */
const PAIRS_PER_STEP = 256;

type Flip = ReturnType<typeof flips>[number];

/** A class pair whose verdicts flip, with its flips. */
interface Hit {
  source: Klass;
  destination: Klass;
  changes: Flip[];
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
    const step = steps.next();
    if (step.done) return step.value;
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
  const compare = (src: Klass, dst: Klass) => {
    if (src.world && dst.world) return;
    // A record talking to itself is always allowed: a one-record class has no pair with itself.
    if (src === dst && src.names.length === 1) return;
    pairs++;
    let pairFlips: Flip[] | undefined;
    if (src.world || dst.world) {
      pairFlips = flips(table(src.before, dst.before), table(src.after, dst.after));
    } else {
      const keyBefore = keyer.key(src, dst, 'before');
      let inner = memo.get(keyBefore);
      if (!inner) memo.set(keyBefore, (inner = new Map()));
      const keyAfter = keyer.key(src, dst, 'after');
      pairFlips = inner.get(keyAfter);
      if (!pairFlips)
        inner.set(
          keyAfter,
          (pairFlips = flips(table(src.before, dst.before), table(src.after, dst.after))),
        );
    }
    if (pairFlips.length === 0) return;
    total += pairFlips.length;
    const weight =
      Math.max(src.names.length * (src.world ? 0 : 1), 1) *
      Math.max(dst.world ? 1 : dst.names.length, 1);
    let bucket = hits.get(weight);
    if (!bucket) hits.set(weight, (bucket = []));
    bucket.push({ source: src, destination: dst, changes: pairFlips });
  };
  // Only pairs with a touched end can flip: touched sources × every class, then the
  // other sources × touched destinations (each pair once).
  const isSource = (klass: Klass) => klass.asSrc && !klass.world;
  const destinations = all.filter((klass) => klass.asDst && !klass.world);
  for (const src of all) {
    for (const dst of isSource(src) ? all : destinations) {
      compare(src, dst);
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
  const endpointOf = (klass: Klass) => {
    let found = endpoints.get(klass);
    if (!found) endpoints.set(klass, (found = endpoint(klass, examples)));
    return found;
  };
  const ident = (klass: Klass) => (klass.after ?? klass.before)!.identity;
  let skip = offset;
  for (const weight of [...hits.keys()].sort((a, b) => b - a)) {
    const bucket = hits.get(weight)!;
    bucket.sort(
      (x, y) =>
        ident(x.source) - ident(y.source) ||
        ident(x.destination) - ident(y.destination) ||
        (x.source.key < y.source.key ? -1 : x.source.key > y.source.key ? 1 : 0) ||
        (x.destination.key < y.destination.key
          ? -1
          : x.destination.key > y.destination.key
            ? 1
            : 0),
    );
    for (const { source: source, destination: destination, changes: changes } of bucket) {
      if (skip >= changes.length) {
        skip -= changes.length;
        continue;
      }
      const src = endpointOf(source);
      const dst = endpointOf(destination);
      for (const flip of [...changes].sort(byProtoThenPort).slice(skip)) {
        if (rows.length >= limit) return rows;
        rows.push({
          src,
          dst,
          proto: flip.proto,
          ports: [flip.lo, flip.hi],
          before: flip.before,
          after: flip.after,
        });
      }
      skip = 0;
    }
    if (rows.length >= limit) break;
  }
  return rows;
}
