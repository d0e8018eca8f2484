/**
 * Copies of first packets to the agent (docs/adr/0042-ovs-flows.md): a denied packet
 * goes to the deny table, which hands a copy to the OpenFlow monitor under meter 1
 * (the meter counts every denied packet, its band those it kept back) and drops it; a `log` verdict sends a
 * copy under meter 2 and continues. `controller(meter_id=N)` meters the copy only: the
 * packet itself is never held back by the rate limit. Side tables see only first
 * packets of new connections (table 21 sends established ones to output), so no
 * established packet is ever copied. Pure.
 */
import { T, type FlowSet } from './flows.js';

/** Meter of deny samples and of `log`-verdict copies. */
export const METER_DENY = 1;
export const METER_LOG = 2;
/** The packet-in `userdata` of each kind of copy. */
export const USERDATA_DENY = '01';
export const USERDATA_LOG = '02';
/** Headers only: IPv6 (40) + a TCP header with options (60) fit, as the nftables NFLOG snaplen. */
const MAX_LEN = 128;

const copy = (userdata: string, meter: number): string =>
  `controller(userdata=${userdata},max_len=${MAX_LEN},meter_id=${meter})`;

/** The actions of a `log` verdict: a metered copy, then on to `next`. */
export const logAction = (next: number): string =>
  `${copy(USERDATA_LOG, METER_LOG)},goto_table:${next}`;

/** The actions of a deny verdict: to the deny table, never back. */
export const DENY_ACTION = `goto_table:${T.deny}`;

/**
 * The deny table: one flow, whose packet counter counts every denied packet; with
 * `sampled`, a metered copy to the agent (then dropped, as every packet of this table).
 */
export function denyTable(out: FlowSet, sampled: boolean): void {
  out.add({
    table: T.deny,
    priority: 0,
    match: '',
    actions: sampled ? copy(USERDATA_DENY, METER_DENY) : 'drop',
  });
}

/**
 * `ovs-ofctl add-meter`/`mod-meter` arguments of the two meters: `rate` copies per
 * second, as many in a burst (at least 1: a meter cannot be 0; with a deny rate of 0
 * the deny table copies nothing and meter 1 is unused).
 */
export function meterSpecs(denyRate: number, logRate: number): string[] {
  const spec = (id: number, rate: number) => {
    const r = Math.max(1, Math.round(rate));
    return `meter=${id},pktps,burst,band=type=drop,rate=${r},burst_size=${r}`;
  };
  return [spec(METER_DENY, denyRate), spec(METER_LOG, logRate)];
}
