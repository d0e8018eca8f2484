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
import { steerCtMark } from './nft/steer-maps.js';

/** One conntrack entry's original direction. */
export interface CtEntry {
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** The `conntrack -D` arguments selecting exactly this entry. */
  args: string[];
}

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
    const args = ['-f', family, '-p', proto, '-s', src, '-d', dst];
    if (sport && dport) args.push('--sport', sport, '--dport', dport);
    out.push({
      proto,
      src,
      dst,
      ...(sport ? { sport: Number(sport) } : {}),
      ...(dport ? { dport: Number(dport) } : {}),
      args,
    });
  }
  return out;
}

/**
 * The conntrack entries to judge: the whole table, or (`addresses` given) only the
 * connections from or to those addresses, filtered by conntrack (`-s`/`-d`), so a
 * sweep after a delta costs the connections it can affect, not the whole table.
 */
async function listEntries(exec: Exec, addresses?: Iterable<string>): Promise<CtEntry[]> {
  const queries: { family: 'ipv4' | 'ipv6'; filter: string[] }[] = [];
  if (addresses === undefined)
    for (const family of ['ipv4', 'ipv6'] as const) queries.push({ family, filter: [] });
  else
    for (const address of addresses) {
      const ip = parseIp(address);
      if (!ip) continue;
      const family = ip.family === 4 ? 'ipv4' : 'ipv6';
      const text = formatIp(ip);
      queries.push({ family, filter: ['-s', text] }, { family, filter: ['-d', text] });
    }
  const lists = await Promise.all(
    queries.map(async ({ family, filter }) => {
      const r = await exec(['conntrack', '-L', '-f', family, ...filter]);
      return r.code === 0 ? parseConntrack(r.stdout, family) : [];
    }),
  );
  // A connection between two of the addresses is listed twice.
  const unique = new Map<string, CtEntry>();
  for (const e of lists.flat()) unique.set(e.args.join(' '), e);
  return [...unique.values()];
}

/**
 * Deletes the conntrack entries of flows `state` denies; returns how many. With
 * `addresses`, only connections from or to them are judged (the addresses of what a
 * delta changed, see AppliedTable.change); without, every connection.
 *
 * @example await killDeniedFlows(exec, state) // 1 after a quarantine
 * @example await killDeniedFlows(exec, state, ['10.0.0.5']) // only 10.0.0.5's connections
 */
export async function killDeniedFlows(
  exec: Exec,
  state: HostState,
  addresses?: Iterable<string>,
): Promise<number> {
  const entries = await listEntries(exec, addresses);
  if (entries.length === 0) return 0;
  let killed = 0;
  const judge = new FlowJudge(state);
  for (const e of entries) {
    const proto = PROTOS[e.proto]!;
    const verdict = judge.judge({
      src: e.src,
      dst: e.dst,
      proto,
      port: proto === 'icmp' ? 0 : (e.dport ?? 0),
    });
    if (verdict !== 'deny') continue;
    const deleted = await exec(['conntrack', '-D', ...e.args]);
    if (deleted.code === 0) killed++;
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
