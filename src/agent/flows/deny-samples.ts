/**
 * The deny side of flow collection (docs/adr/0028-deny-samples.md): reads the samples
 * the deny chain hands to NFLOG group G through `tcpdump -i nflog:G -w -` (libpcap's
 * NFLOG reader; the agent parses the pcap stream, nflog.ts), and the table's deny
 * counters — the deny chain's exact total and samples, and each deny rule's exact count
 * (docs/adr/0066-per-rule-deny-counters.md) — with one `nft -j list counters`, kept
 * monotonic across table replacements and removed rules (which start them at 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Exec } from '../exec.js';
import type { DeniedCount } from '../../model/flow.js';
import { DEFAULT_DENY_LOG_GROUP, parseDenyCounts, parseRuleDenyName } from '../nft/deny-chain.js';
import { TABLE_FAMILY, TABLE_NAME } from '../nft/types.js';
import type { FlowTuple } from './flow-builder.js';
import { MonotonicTotals, type DenyTotals } from './flow-source.js';
import { NflogStream } from './nflog.js';

export interface DenySamplerOptions {
  exec: Exec;
  inNamespace?: string[];
  /** NFLOG group of the deny chain (default 86). */
  group?: number;
  onSample: (t: FlowTuple) => void;
  log?: (msg: string) => void;
}

/**
 * Denied packets per deciding rule, and the defaults' (every denied packet less the
 * rules'), sorted by policy and rule.
 */
export function byRule(
  t: { sampled: number; unsampled: number },
  rules: ReadonlyMap<string, number>,
): DeniedCount[] {
  const out: DeniedCount[] = [];
  let ruled = 0;
  for (const [name, packets] of rules) {
    const r = parseRuleDenyName(name);
    if (!r) continue;
    out.push({ ...r, packets });
    ruled += packets;
  }
  out.sort((a, b) =>
    a.policy === b.policy ? (a.rule < b.rule ? -1 : 1) : a.policy < b.policy ? -1 : 1,
  );
  const defaults = t.sampled + t.unsampled - ruled;
  return [{ policy: '', rule: 'default', packets: Math.max(0, defaults) }, ...out];
}

export class DenySampler {
  private child: ChildProcess | undefined;
  private stopped = false;
  /** Counters of the table as read, kept monotonic across replaced tables. */
  private readonly counts = new MonotonicTotals();

  constructor(private readonly opts: DenySamplerOptions) {}

  start(): void {
    if (this.stopped) return;
    const argv = [
      ...(this.opts.inNamespace ?? []),
      'tcpdump',
      '-i',
      `nflog:${this.opts.group ?? DEFAULT_DENY_LOG_GROUP}`,
      '--immediate-mode',
      '-U',
      '-s',
      '256',
      '-w',
      '-',
    ];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const stream = new NflogStream();
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        for (const t of stream.push(chunk)) this.opts.onSample(t);
      } catch (e) {
        this.opts.log?.(`flows: NFLOG stream: ${String(e)}`);
        child.kill();
      }
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    let failed = false;
    child.on('error', (e) => {
      // tcpdump missing: no deny records; the counters are still read and reported.
      failed = true;
      this.opts.log?.(`flows: cannot run tcpdump for NFLOG: ${e.message}; no deny samples`);
    });
    child.on('close', (code) => {
      if (this.stopped || failed) return;
      this.opts.log?.(`flows: NFLOG reader ended (${code}): ${err.trim()}; restarting`);
      setTimeout(() => this.start(), 500).unref();
    });
  }

  /** Reads the table's deny counters; the totals since the agent started. */
  async totals(): Promise<DenyTotals> {
    const r = await this.opts
      .exec(['nft', '-j', 'list', 'counters', 'table', TABLE_FAMILY, TABLE_NAME])
      .catch(() => undefined);
    // A replaced table counts from 0 again: what the old one counted stays counted.
    const t = this.counts.read(r?.code === 0 ? parseDenyCounts(r.stdout) : undefined);
    return { sampled: t.sampled, unsampled: t.unsampled, denied: byRule(t, t.rules) };
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }
}
