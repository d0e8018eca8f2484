/**
 * What a flow record's side must say, from a check result: the kernel tests compare
 * the records the agents collect with `vnp check` / `engine.check` through this.
 */
import type { SideResult } from '../../../src/model/check.js';
import type { FlowRecord, FlowSide } from '../../../src/model/flow.js';

/**
 * The side of a flow record that a check side names.
 *
 * @example flowSideOf(engine.check(q).egress) // { verdict: 'allow', policy: 'web', rule: 'egress[0]' }
 */
export function flowSideOf(
  s: Pick<SideResult, 'verdict' | 'logged' | 'policy'> & {
    rule?: { rule: string };
    default?: { verdict: 'allow' | 'deny' };
  },
): FlowSide {
  return s.policy !== undefined
    ? {
        verdict: s.verdict,
        policy: s.policy,
        rule: s.rule!.rule,
        ...(s.logged ? { logged: true } : {}),
      }
    : { verdict: s.verdict, default: s.default!.verdict };
}

/** A probed connection, by addresses. */
export interface ProbedFlow {
  srcAddr: string;
  dstAddr: string;
  proto: 'tcp' | 'udp' | 'icmp';
  port: number;
}

/** Records of `f` (ICMP by protocol alone: its record's port is the ICMP type). */
export function recordsOf(records: readonly FlowRecord[], f: ProbedFlow): FlowRecord[] {
  return records.filter(
    (r) =>
      r.state === 'new' &&
      r.src.address === f.srcAddr &&
      r.dst.address === f.dstAddr &&
      r.protocol === f.proto &&
      (f.proto === 'icmp' || r.port === f.port),
  );
}
