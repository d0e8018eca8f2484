/**
 * Killing established flows a new state denies: the ruleset accepts
 * `ct state established` first, so without this a quarantine would not stop a
 * connection that is already open. After the entry is gone the next packet is
 * a new flow (TCP loose pickup) and meets the new policy.
 */
import type { HostState } from '../model/host-state.js';
import { formatIp, parseIp } from '../model/net.js';
import type { Protocol } from '../model/types.js';
import { FlowJudge } from './evaluate.js';
import type { Exec } from './exec.js';
import { CT_MARK_TAG, CT_TAG_MASK, identityCtMark } from './nft/expressions.js';
import { steerCtMark } from './nft/steer-maps.js';

/** One conntrack entry's original direction. */
export interface CtEntry {
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** TCP state (`ESTABLISHED`, `TIME_WAIT`, …); absent for other protocols. */
  state?: string;
  /** The ct mark, when listed. */
  mark?: number;
  /** The `conntrack -D` arguments selecting exactly this entry. */
  args: string[];
}

/**
 * TCP states of connections that are over: no data crosses them any more, so a sweep
 * leaves them to expire. A probe loop of 500 connections/s leaves ~60,000 such entries
 * (TIME_WAIT lasts 120 s); deleting each by its own `conntrack -D` held up the next
 * state by seconds.
 */
const CLOSED_TCP = new Set(['TIME_WAIT', 'CLOSE']);
/** A listed line of such a connection, dropped before it is parsed. */
const CLOSED_LINE = /^tcp\s+\d+\s+\d+\s+(?:TIME_WAIT|CLOSE)\s/;
/**
 * A connection that has seen no reply is not established: the kernel judges each of its
 * packets as a new flow (`ct state new`), so the new policy already applies to it and
 * there is nothing to delete. A sweep leaves these too (a probe loop's refused SYNs;
 * on a host's underlay, every VXLAN flow: deleting each cost one `conntrack -D`, which
 * lists the table, docs/adr/0050-sweep-behind-the-apply.md).
 */
const UNREPLIED = '[UNREPLIED]';

const PROTOS: Record<string, Protocol> = {
  tcp: 'tcp',
  udp: 'udp',
  sctp: 'sctp',
  icmp: 'icmp',
  icmpv6: 'icmp',
};

/**
 * Parses `conntrack -L` text output (original direction only).
 *
 * @example parseConntrack('tcp 6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80 src=...')
 */
export function parseConntrack(text: string, family: 'ipv4' | 'ipv6'): CtEntry[] {
  const out: CtEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const proto = words[0];
    if (!proto || !(proto in PROTOS)) continue;
    const first = (key: string) =>
      words.find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
    const src = first('src');
    const dst = first('dst');
    if (!src || !dst) continue;
    const sport = first('sport');
    const dport = first('dport');
    const mark = first('mark');
    const state = proto === 'tcp' && /^[A-Z_]+$/.test(words[3] ?? '') ? words[3] : undefined;
    const args = ['-f', family, '-p', proto, '-s', src, '-d', dst];
    if (sport && dport) args.push('--sport', sport, '--dport', dport);
    // conntrack -D lists the table to find the entry; by its mark, the kernel lists less.
    if (mark) args.push('--mark', mark);
    out.push({
      proto,
      src,
      dst,
      ...(sport ? { sport: Number(sport) } : {}),
      ...(dport ? { dport: Number(dport) } : {}),
      ...(state ? { state } : {}),
      ...(mark ? { mark: Number(mark) } : {}),
      args,
    });
  }
  return out;
}

/**
 * What a sweep after a delta judges (see TableChange in nft/applied-table.ts); absent:
 * every connection.
 */
export interface SweepScope {
  /** Local identities whose verdicts may have become stricter: listed by their ct mark. */
  identities: Iterable<number>;
  /** Also the connections other local records opened (ct-marked with their identity). */
  localSenders: boolean;
  /** Addresses whose identity changed: their connections, from or to them. */
  addresses: Iterable<string>;
  /** Active steer classes: steered connections carry the class's ct mark, not an identity. */
  steerClasses: Iterable<number>;
}

type Family = 'ipv4' | 'ipv6';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

/**
 * One `conntrack -L`; a listing of every vnp connection (for changed addresses) is kept
 * to the connections from or to them, and to those with one of `marks` (the mark queries
 * of its family, folded into it: the listing has their connections already).
 */
interface Query {
  family: Family;
  filter: string[];
  addresses?: Set<string>;
  marks?: Set<number>;
}

const familyOf = (ip: string): Family | undefined => {
  const p = parseIp(ip);
  return p ? (p.family === 4 ? 'ipv4' : 'ipv6') : undefined;
};

const canonIp = (ip: string): string => {
  const p = parseIp(ip);
  return p ? formatIp(p) : ip;
};

/**
 * Every connection vnp decided carries its tag in the ct mark (the local end's identity,
 * or a steer class; base-chains.ts): the kernel filter of an address sweep.
 */
const VNP_MARKED = ['--mark', `${CT_MARK_TAG}/${CT_TAG_MASK}`];

/**
 * The `conntrack -L` calls of a sweep. conntrack-tools filters only the ct mark in the
 * kernel (`--mark`); addresses (`-s`/`-d`) are filtered in user space after the whole
 * table crossed the socket (docs/adr/0043-element-batches-and-marked-sweep.md). So the
 * connections of the identities a change tightened are listed by mark, one call per
 * mark and family their local records use; addresses whose identity changed need a
 * listing of every vnp-marked connection (the mark's tag under its mask: the host's
 * own and the underlay's connections, which vnp never decided, stay in the kernel),
 * one per family whatever their number — and that listing stands for the family's
 * mark queries too.
 */
export function sweepQueries(state: HostState, scope?: SweepScope): Query[] {
  if (!scope) return FAMILIES.map((family) => ({ family, filter: [] }));
  const queries: Query[] = [];
  const byAddress = new Map<Family, Set<string>>();
  for (const ip of scope.addresses) {
    const family = familyOf(ip);
    if (!family) continue;
    const set = byAddress.get(family) ?? new Set<string>();
    set.add(canonIp(ip));
    byAddress.set(family, set);
  }
  for (const [family, addresses] of byAddress)
    queries.push({ family, filter: VNP_MARKED, addresses });
  const identities = new Set(scope.identities);
  if (identities.size === 0) return queries;
  if (scope.localSenders) for (const r of state.locals) identities.add(r.identity);
  // Families each local identity has connections in (its records' addresses).
  const families = new Map<number, Set<Family>>();
  for (const r of state.locals)
    for (const ip of r.ips) {
      const family = familyOf(ip);
      if (family) families.set(r.identity, (families.get(r.identity) ?? new Set()).add(family));
    }
  const whole = new Map(queries.map((q) => [q.family, q]));
  const marked = (mark: number, of: Iterable<Family>) => {
    for (const family of of) {
      const listing = whole.get(family);
      if (listing) (listing.marks ??= new Set()).add(mark);
      else queries.push({ family, filter: ['--mark', String(mark)] });
    }
  };
  for (const id of identities) marked(identityCtMark(id), families.get(id) ?? []);
  const anyFamily = new Set([...families.values()].flatMap((f) => [...f]));
  for (const k of scope.steerClasses) marked(steerCtMark(k), anyFamily);
  return queries;
}

/** The conntrack entries a sweep judges (each connection once). */
async function listEntries(exec: Exec, queries: Query[]): Promise<CtEntry[]> {
  const lists = await Promise.all(
    queries.map(async ({ family, filter, addresses, marks }) => {
      const r = await exec(['conntrack', '-L', '-f', family, ...filter]);
      if (r.code !== 0) return [];
      const open = r.stdout
        .split('\n')
        .filter((line) => !CLOSED_LINE.test(line) && !line.includes(UNREPLIED))
        .join('\n');
      const entries = parseConntrack(open, family);
      return addresses
        ? entries.filter(
            (e) =>
              addresses.has(canonIp(e.src)) ||
              addresses.has(canonIp(e.dst)) ||
              (e.mark !== undefined && marks?.has(e.mark) === true),
          )
        : entries;
    }),
  );
  const unique = new Map<string, CtEntry>();
  for (const e of lists.flat()) unique.set(e.args.join(' '), e);
  return [...unique.values()];
}

/** Deletions run this many at a time (a quarantine may cut many connections). */
const DELETE_CONCURRENCY = 8;

/**
 * Deletes the conntrack entries of flows `state` denies; returns how many. With
 * `scope`, only the connections a delta can have denied are listed and judged (see
 * {@link sweepQueries}); without, every connection.
 *
 * @example await killDeniedFlows(exec, state) // 1 after a quarantine
 * @example await killDeniedFlows(exec, state, { identities: [256], localSenders: false, addresses: [], steerClasses: [] })
 */
export async function killDeniedFlows(
  exec: Exec,
  state: HostState,
  scope?: SweepScope,
): Promise<number> {
  const queries = sweepQueries(state, scope);
  if (queries.length === 0) return 0;
  const entries = await listEntries(exec, queries);
  if (entries.length === 0) return 0;
  const judge = new FlowJudge(state);
  const denied = entries.filter((e) => {
    if (e.state !== undefined && CLOSED_TCP.has(e.state)) return false;
    const proto = PROTOS[e.proto]!;
    const port = proto === 'icmp' ? 0 : (e.dport ?? 0);
    return judge.judge({ src: e.src, dst: e.dst, proto, port }) === 'deny';
  });
  let killed = 0;
  for (let i = 0; i < denied.length; i += DELETE_CONCURRENCY) {
    const batch = denied.slice(i, i + DELETE_CONCURRENCY);
    const results = await Promise.all(batch.map((e) => exec(['conntrack', '-D', ...e.args])));
    killed += results.filter((r) => r.code === 0).length;
  }
  return killed;
}

/**
 * Deletes the conntrack entries of connections steered through the given steer
 * classes (their ct mark is `TAG | k << 16 | k`, see nft/steer-maps.ts): when a class
 * now means another via record, or none, its connections are decided again by their
 * next packet (TCP loose pickup) instead of following the old path. Returns how many.
 *
 * @example await forgetSteeredFlows(exec, [2]) // after class 2 was renumbered
 */
export async function forgetSteeredFlows(exec: Exec, classes: readonly number[]): Promise<number> {
  let n = 0;
  for (const k of classes)
    for (const family of ['ipv4', 'ipv6'] as const) {
      const r = await exec(['conntrack', '-D', '-f', family, '-m', String(steerCtMark(k))]);
      const m = /(\d+) flow entries have been deleted/.exec(`${r.stdout}\n${r.stderr}`);
      if (m) n += Number(m[1]);
    }
  return n;
}
