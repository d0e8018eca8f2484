/**
 * The OVS program (pure): flows grow with the sum of peers and ports, not their
 * product; a one-entry change is a handful of flows; conjunction ids stay put; the
 * conntrack dump parser yields the tuples the sweep flushes by.
 */
import { describe, expect, it } from 'vitest';
import { parseOvsConntrack } from '../../src/agent/ovs/conntrack.js';
import { FlowSet } from '../../src/agent/ovs/flows.js';
import {
  ConjIds,
  flowKey,
  ovsProgram,
  portPrefixes,
  T,
  type OfFlow,
} from '../../src/agent/ovs/program.js';
import type { HostState, PeerEntry } from '../../src/model/host-state.js';
import { fakePorts, flowCounts } from '../../bench/ovs-flow-counts.js';
import { hostState, LOCAL_A } from './support/fakes.js';

const peer = (p: number, port: number, verdict: PeerEntry['verdict'] = 'allow'): PeerEntry => ({
  peer: p,
  proto: 'tcp',
  ports: [port, port],
  verdict,
  policy: 'p',
  rule: 'egress[0]',
});

/** Local identity 256 may reach `peers` identities on `ports` ports each (peers × ports entries). */
function grid(peers: number, ports: number, extra: PeerEntry[] = []): HostState {
  const entries: PeerEntry[] = [];
  for (let p = 0; p < peers; p++)
    for (let k = 0; k < ports; k++) entries.push(peer(1000 + p, 2000 + k * 7));
  return hostState(1, {
    locals: [LOCAL_A],
    sides: [
      { identity: 256, direction: 'egress', cidr: [], peers: [...entries, ...extra], any: [] },
    ],
    defaults: [{ identity: 256, other: 'deny', peers: [] }],
  });
}

const egressFlows = (m: Map<string, OfFlow>) =>
  [...m.values()].filter((f) => f.table === T.egress).length;

function diff(a: Map<string, OfFlow>, b: Map<string, OfFlow>): number {
  let n = 0;
  for (const [k, f] of a) if (b.get(k)?.actions !== f.actions) n++;
  for (const k of b.keys()) if (!a.has(k)) n++;
  return n;
}

describe('ovsProgram', () => {
  it('decomposes port ranges into value/mask prefixes', () => {
    expect(portPrefixes(80, 80)).toEqual(['80']);
    expect(portPrefixes(0, 65535)).toEqual(['']);
    expect(portPrefixes(8000, 8003)).toEqual(['0x1f40/0xfffc']);
    expect(portPrefixes(1, 3)).toEqual(['1', '0x2/0xfffe']);
  });

  it('grows with peers + ports, not peers × ports', () => {
    const small = egressFlows(ovsProgram(grid(10, 10), fakePorts(grid(10, 10))));
    const wide = egressFlows(ovsProgram(grid(100, 10), fakePorts(grid(100, 10))));
    const deep = egressFlows(ovsProgram(grid(10, 100), fakePorts(grid(10, 100))));
    // 90 more peers add 90 flows per family (tcp, tcp6); 90 more ports the same —
    // never 900 per family.
    expect(wide - small).toBeLessThanOrEqual(2 * 90 + 10);
    expect(deep - small).toBeLessThanOrEqual(2 * 90 + 10);
    const product = egressFlows(
      ovsProgram(grid(100, 10), fakePorts(grid(100, 10)), {}, new ConjIds(false)),
    );
    expect(product).toBeGreaterThanOrEqual(1000);
    // Every conjunction has both dimensions and a verdict flow.
    const flows = [...ovsProgram(grid(100, 10), fakePorts(grid(100, 10))).values()];
    const ids = new Set(
      flows.flatMap((f) => [...f.actions.matchAll(/conjunction\((\d+),2\/2\)/g)].map((m) => m[1])),
    );
    for (const id of ids) expect(flows.some((f) => f.match === `conj_id=${id}`)).toBe(true);
  });

  it('a one-entry change rewrites a handful of flows, and ids stay put', () => {
    const ids = new ConjIds();
    const base = grid(50, 20);
    const a = ovsProgram(base, fakePorts(base), {}, ids);
    // One more peer in the existing class: one flow.
    const more = grid(51, 20);
    const b = ovsProgram(more, fakePorts(more), {}, ids);
    expect(diff(a, b)).toBeLessThanOrEqual(2);
    // One peer's single port becomes a deny: its class splits off, the others stay.
    const flipped = grid(51, 20);
    flipped.sides[0]!.peers = flipped.sides[0]!.peers.map((e) =>
      e.peer === 1003 && e.ports[0] === 2000 ? { ...e, verdict: 'deny' as const } : e,
    );
    const c = ovsProgram(flipped, fakePorts(flipped), {}, ids);
    expect(diff(b, c)).toBeLessThan(50);
    expect(c.size).toBeGreaterThan(100);
  });

  it('uses fewer flows than the product layout on engine-compiled policies', () => {
    const r = flowCounts(200);
    expect(r.entries).toBeGreaterThan(1000);
    expect(r.flows).toBeLessThan(r.flowsWithoutConjunction);
  });

  it('merges the conjunctions of flows with one match, each kept whole', () => {
    // Two classes sharing a port prefix: one flow, both conjunctions (a comma split
    // once cut them into `conjunction(1,2/2),conjunction(2`, which ovs-ofctl refuses).
    const set = new FlowSet();
    const f = (actions: string): OfFlow => ({ table: 30, priority: 200, match: 'tcp', actions });
    set.add(f('conjunction(1,2/2)'));
    set.add(f('conjunction(2,2/2)'));
    set.add(f('conjunction(1,2/2)'));
    expect([...set.flows.values()].map((x) => x.actions)).toEqual([
      'conjunction(1,2/2),conjunction(2,2/2)',
    ]);
  });

  it('keys flows by table, priority and match', () => {
    expect(flowKey({ table: 30, priority: 200, match: 'reg0=256', actions: 'drop' })).toBe(
      'table=30,priority=200,reg0=256',
    );
  });
});

describe('parseOvsConntrack', () => {
  it('reads TCP, UDP and ICMP entries of both families', () => {
    const text = [
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=40000),zone=7,mark=256,protoinfo=(state=ESTABLISHED)',
      'udp,orig=(src=fd00::1,dst=fd00::2,sport=5000,dport=53),reply=(src=fd00::2,dst=fd00::1,sport=53,dport=5000),zone=7',
      'icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=7,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.1,id=7,type=0,code=0),zone=7',
      'garbage',
    ].join('\n');
    expect(parseOvsConntrack(text)).toEqual([
      {
        proto: 'tcp',
        src: '10.0.0.1',
        dst: '10.0.0.2',
        dport: 80,
        sport: 40000,
        state: 'ESTABLISHED',
        tuple: 'ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=6,ct_tp_src=40000,ct_tp_dst=80',
      },
      {
        proto: 'udp',
        src: 'fd00::1',
        dst: 'fd00::2',
        dport: 53,
        sport: 5000,
        tuple: 'ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::2,ct_nw_proto=17,ct_tp_src=5000,ct_tp_dst=53',
      },
      {
        proto: 'icmp',
        src: '10.0.0.1',
        dst: '10.0.0.2',
        dport: 0,
        icmpType: 8,
        icmpCode: 0,
        tuple:
          'ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=1,icmp_id=7,icmp_type=8,icmp_code=0',
      },
    ]);
  });
});
