/**
 * The host's deny chain (docs/adr/0028-deny-samples.md): every deny verdict of the
 * side chains and default maps is a `goto` here. It counts every denied packet
 * exactly, hands a rate-limited sample to user space through NFLOG (`log group`), and
 * drops. Only packets that reach a side chain get here — the first packets of new
 * connections; established packets leave the forward chain before any side chain —
 * so no established packet is ever copied to user space. Pure.
 *
 *   chain deny {
 *     counter                                                  # every denied packet
 *     limit rate 200/second burst 200 packets counter log group 86 snaplen 128 queue-threshold 1
 *     drop
 *   }
 */
import { COUNTER } from './expressions.js';
import type { ChainDecl, DenyLogOptions } from './table.js';
import type { NftValue } from './types.js';

export type { DenyLogOptions };

export const DENY_CHAIN = 'deny';

/** The verdict of a deny: to the deny chain, never back. */
export const DENY: NftValue = { goto: { target: DENY_CHAIN } };

/** 0x56, vnp's tag (as in its ct marks). */
export const DEFAULT_DENY_LOG_GROUP = 86;
export const DEFAULT_DENY_LOG_RATE = 200;
/** Headers only: IPv6 (40) + a TCP header with options (60) fit; no payload to copy. */
const SNAPLEN = 128;

/**
 * The deny chain. Its first rule's counter is the exact total, the second's the
 * samples handed to NFLOG; the agent reads both (the difference: samples the rate
 * limit kept back).
 */
export function denyChain(opts: DenyLogOptions = {}): ChainDecl {
  const rate = opts.rate ?? DEFAULT_DENY_LOG_RATE;
  const log = {
    log: {
      group: opts.group ?? DEFAULT_DENY_LOG_GROUP,
      snaplen: SNAPLEN,
      // Sent at once: a sample waits for no batch (the limit bounds the rate).
      'queue-threshold': 1,
    },
  };
  return {
    name: DENY_CHAIN,
    rules: [
      [COUNTER],
      ...(rate > 0 ? [[{ limit: { rate, per: 'second', burst: rate } }, COUNTER, log]] : []),
      [{ drop: null }],
    ],
  };
}

/** Counters of the deny chain as `nft -j list chain` prints them. */
export interface DenyCounts {
  /** Denied packets. */
  total: number;
  /** Of them, handed to NFLOG. */
  sampled: number;
}

/**
 * Reads the two counters from `nft -j list chain inet vnp deny` output; undefined when
 * the chain is not there (no table yet).
 */
export function parseDenyCounts(json: string): DenyCounts | undefined {
  let doc: { nftables?: { rule?: { chain?: string; expr?: Record<string, unknown>[] } }[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    return undefined;
  }
  const counts: number[] = [];
  for (const item of doc.nftables ?? []) {
    if (item.rule?.chain !== DENY_CHAIN) continue;
    const c = item.rule.expr?.find((e) => 'counter' in e)?.counter as
      { packets?: number } | undefined;
    if (c) counts.push(c.packets ?? 0);
  }
  if (counts.length === 0) return undefined;
  return { total: counts[0]!, sampled: counts[1] ?? 0 };
}
