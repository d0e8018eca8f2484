/**
 * A kernel event → a flow record, judged against the HostState the agent enforces
 * (evaluate.ts's FlowJudge: the same resolved tables it renders), so the record
 * names exactly the policy and rule this host's tables applied. Pure.
 */
import type { FlowEndpoint, FlowRecord, FlowSide } from '../../model/flow.js';
import type { HostState } from '../../model/host-state.js';
import { formatIp, parseIp } from '../../model/net.js';
import type { Protocol } from '../../model/types.js';
import { FlowJudge } from '../evaluate.js';

/** The packet or connection a record is about (original direction). */
export interface FlowTuple {
  at: number;
  proto: Protocol;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** Judges tuples against one HostState (rebuilt when the state changes). */
export class FlowBuilder {
  private readonly judge: FlowJudge;
  private readonly names = new Map<string, string>();

  constructor(readonly state: HostState) {
    this.judge = new FlowJudge(state);
    for (const r of [...state.remotes, ...state.locals])
      for (const ip of r.ips) this.names.set(canon(ip), r.name);
  }

  /**
   * The record of a new connection or a denied packet (`state: new`) or of a closed
   * connection (with its counters); undefined when neither end is a local record.
   */
  build(
    t: FlowTuple,
    state: FlowRecord['state'],
    counters?: { packets: number; bytes: number },
  ): FlowRecord | undefined {
    const src = this.judge.addressIdentity(t.src);
    const dst = this.judge.addressIdentity(t.dst);
    if (!src.local && !dst.local) return undefined;
    const flow = {
      src: t.src,
      dst: t.dst,
      proto: t.proto,
      port: t.proto === 'icmp' ? 0 : (t.dport ?? 0),
    };
    const egress: FlowSide | undefined = src.local
      ? this.judge.decide(src.identity, 'egress', dst.identity, t.dst, flow)
      : undefined;
    const ingress: FlowSide | undefined = dst.local
      ? this.judge.decide(dst.identity, 'ingress', src.identity, t.src, flow)
      : undefined;
    const deny = egress?.verdict === 'deny' || ingress?.verdict === 'deny';
    const icmp = t.proto === 'icmp';
    return {
      time: new Date(t.at).toISOString(),
      host: this.state.host,
      src: this.endpoint(t.src, icmp ? undefined : t.sport, src.identity),
      dst: this.endpoint(t.dst, icmp ? undefined : t.dport, dst.identity),
      protocol: t.proto,
      port: icmp ? (t.icmpType ?? 0) : (t.dport ?? 0),
      ...(icmp && t.icmpCode !== undefined ? { code: t.icmpCode } : {}),
      verdict: deny ? 'deny' : 'allow',
      ...(egress ? { egress } : {}),
      ...(ingress ? { ingress } : {}),
      state,
      ...(counters ?? {}),
    };
  }

  private endpoint(address: string, port: number | undefined, identity: number): FlowEndpoint {
    const a = canon(address);
    const record = this.names.get(a);
    return {
      address: a,
      ...(port !== undefined ? { port } : {}),
      ...(record !== undefined ? { record } : {}),
      identity,
      partitions: [],
    };
  }
}

function canon(ip: string): string {
  const p = parseIp(ip);
  return p ? formatIp(p) : ip;
}
