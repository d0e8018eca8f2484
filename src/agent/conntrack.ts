/**
 * Killing established flows a new state denies: the ruleset accepts
 * `ct state established` first, so without this a quarantine would not stop a
 * connection that is already open. After the entry is gone the next packet is
 * a new flow (TCP loose pickup) and meets the new policy.
 */
import type { HostState } from '../model/host-state.js';
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
 * Deletes the conntrack entries of flows `state` denies; returns how many.
 *
 * @example await killDeniedFlows(exec, state) // 1 after a quarantine
 */
export async function killDeniedFlows(exec: Exec, state: HostState): Promise<number> {
  let killed = 0;
  const judge = new FlowJudge(state);
  const lists = await Promise.all(
    (['ipv4', 'ipv6'] as const).map(async (family) => ({
      family,
      r: await exec(['conntrack', '-L', '-f', family]),
    })),
  );
  for (const { family, r } of lists) {
    if (r.code !== 0) continue;
    for (const e of parseConntrack(r.stdout, family)) {
      const proto = PROTOS[e.proto]!;
      const v = judge.judge({
        src: e.src,
        dst: e.dst,
        proto,
        port: proto === 'icmp' ? 0 : (e.dport ?? 0),
      });
      if (v !== 'deny') continue;
      const d = await exec(['conntrack', '-D', ...e.args]);
      if (d.code === 0) killed++;
    }
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
