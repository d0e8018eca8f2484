/**
 * The host's deny chain (docs/adr/0028-deny-samples.md): every deny verdict of the
 * side chains and default maps is a `goto` here. It counts every denied packet
 * exactly, hands a rate-limited sample to user space through NFLOG (`log group`), and
 * drops. Only packets that reach a side chain get here — the first packets of new
 * connections; established packets leave the forward chain before any side chain —
 * so no established packet is ever copied to user space. Pure.
 *
 *   chain deny {
 *     counter name "deny-total"                                # every denied packet
 *     limit rate 200/second burst 200 packets counter name "deny-sampled" log group 86 …
 *     drop
 *   }
 *
 * A deny that a policy rule decided passes its rule's chain first (`dn-POLICY-e0`:
 * `counter name "dn-POLICY-e0" goto deny`, side-maps.ts), so the named counters of the
 * table hold the exact count per deny rule, and one `nft -j list counters` reads them
 * all (docs/adr/0066-per-rule-deny-counters.md).
 */
import type { Verdict } from './disjoint.js';
import type { ChainDecl, DenyLogOptions } from './table.js';
import type { NftValue } from './types.js';

export type { DenyLogOptions };

export const DENY_CHAIN = 'deny';
/** The deny chain's named counters: every denied packet, and those handed to NFLOG. */
export const DENY_TOTAL = 'deny-total';
export const DENY_SAMPLED = 'deny-sampled';

/** The verdict of a deny: to the deny chain, never back. */
export const DENY: NftValue = { goto: { target: DENY_CHAIN } };

/**
 * Chain (and named counter) of one deny rule (docs/adr/0066-per-rule-deny-counters.md):
 * `dn-POLICY-e3` for `egress[3]`, `dn-POLICY-i0` for `ingress[0]`; undefined for a
 * verdict that names no policy rule (a default: counted by the deny chain alone).
 */
export function ruleDenyName(verdict: Verdict): string | undefined {
  if (verdict.kind !== 'deny' || verdict.policy === '') return undefined;
  const m = /^(egress|ingress)\[(\d+)\]$/.exec(verdict.rule);
  return m ? `dn-${verdict.policy}-${m[1] === 'egress' ? 'e' : 'i'}${m[2]}` : undefined;
}

/**
 * The policy and rule a {@link ruleDenyName} names (a policy name may hold `-`; the
 * rule is the last part).
 *
 * @example parseRuleDenyName('dn-lock-down-i0') // { policy: 'lock-down', rule: 'ingress[0]' }
 */
export function parseRuleDenyName(name: string): { policy: string; rule: string } | undefined {
  const m = /^dn-(.+)-([ei])(\d+)$/.exec(name);
  if (!m) return undefined;
  return { policy: m[1]!, rule: `${m[2] === 'e' ? 'egress' : 'ingress'}[${m[3]}]` };
}

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
  const sampled = { counter: DENY_SAMPLED };
  return {
    name: DENY_CHAIN,
    counters: [DENY_TOTAL, DENY_SAMPLED],
    rules: [
      [{ counter: DENY_TOTAL }],
      ...(rate > 0 ? [[{ limit: { rate, per: 'second', burst: rate } }, sampled, log]] : []),
      [{ drop: null }],
    ],
  };
}

/** The table's deny counters as `nft -j list counters table inet vnp` prints them. */
export interface DenyCounts {
  /** Denied packets. */
  total: number;
  /** Of them, handed to NFLOG. */
  sampled: number;
  /** Denied packets by the deny rule's chain that counted them (`dn-…`). */
  rules: Map<string, number>;
}

/**
 * Reads the deny counters from `nft -j list counters table inet vnp` output; undefined
 * when the deny chain's are not there (no table yet).
 */
export function parseDenyCounts(json: string): DenyCounts | undefined {
  let doc: { nftables?: { counter?: { name?: string; packets?: number } }[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    return undefined;
  }
  let total: number | undefined;
  let sampled = 0;
  const rules = new Map<string, number>();
  for (const item of doc.nftables ?? []) {
    const c = item.counter;
    if (!c?.name) continue;
    if (c.name === DENY_TOTAL) total = c.packets ?? 0;
    else if (c.name === DENY_SAMPLED) sampled = c.packets ?? 0;
    else if (parseRuleDenyName(c.name)) rules.set(c.name, c.packets ?? 0);
  }
  return total === undefined ? undefined : { total, sampled, rules };
}
