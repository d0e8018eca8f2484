/**
 * OVS flow visibility, the pure parts (docs/adr/0042-ovs-flows.md): the program's
 * copies (a `log` verdict copies and continues, a deny goes to the counted, sampled
 * deny table), the monitor's packet-ins as captured from ovs-ofctl 3.1, the deny
 * counters, and successive conntrack dumps as opened/ended connections.
 */
import { describe, expect, it } from 'vitest';
import { FlowCollector } from '../../src/agent/flows/flow-collector.js';
import type { FlowSink, FlowSource } from '../../src/agent/flows/flow-source.js';
import { OvsConntrackReader, parseOvsConntrack } from '../../src/agent/ovs/conntrack.js';
import { ConntrackTracker, parseDenyCounters } from '../../src/agent/ovs/ovs-flow-source.js';
import { PacketInReader } from '../../src/agent/ovs/packet-in.js';
import { ovsProgram, T } from '../../src/agent/ovs/program.js';
import type { FlowRecord } from '../../src/model/flow.js';
import type { HostState, PeerEntry } from '../../src/model/host-state.js';
import { hostState, LOCAL_A } from './support/fakes.js';

const entry = (port: number, verdict: PeerEntry['verdict']): PeerEntry => ({
  peer: 300,
  proto: 'tcp',
  ports: [port, port],
  verdict,
  policy: 'p',
  rule: 'egress[0]',
});

const state = (): HostState =>
  hostState(1, {
    sides: [
      {
        identity: 256,
        direction: 'egress',
        cidr: [],
        peers: [entry(80, 'log'), entry(81, 'deny'), entry(82, 'allow')],
        any: [],
      },
    ],
    defaults: [{ identity: 256, other: 'deny', peers: [] }],
  });

const ports = { records: new Map<string, number>(), tunnels: new Map<number, number>() };

describe('the OVS program copies first packets', () => {
  it('log: a copy under meter 2, then on; deny: to the deny table; allow: on', () => {
    const flows = [...ovsProgram(state(), ports).values()];
    const at = (port: number) =>
      flows.find((f) => f.table === T.egress && f.match.endsWith(`tcp_dst=${port}`))!.actions;
    // After egress: the steer table (route entries, ADR 0041), then ingress.
    expect(at(80)).toBe(`controller(userdata=02,max_len=128,meter_id=2),goto_table:${T.steer}`);
    expect(at(81)).toBe(`goto_table:${T.deny}`);
    expect(at(82)).toBe(`goto_table:${T.steer}`);
    const dflt = flows.find((f) => f.table === T.egress && f.match === 'reg0=256')!;
    expect(dflt.actions).toBe(`goto_table:${T.deny}`);
    expect(flows.filter((f) => f.table === T.deny)).toEqual([
      {
        table: T.deny,
        priority: 0,
        match: '',
        actions: 'controller(userdata=01,max_len=128,meter_id=1)',
      },
    ]);
  });

  it('a deny rate of 0 counts and drops, copying nothing', () => {
    const flows = [...ovsProgram(state(), ports, { denySamples: false }).values()];
    expect(flows.find((f) => f.table === T.deny)!.actions).toBe('drop');
  });
});

describe('PacketInReader', () => {
  it('reads packet-ins of ovs-ofctl monitor (TCP, ICMP, IPv6), skipping anything else', () => {
    const lines = [
      'NXT_PACKET_IN2 (OF1.5) (xid=0x0): table_id=45 cookie=0x0 total_len=74 ct_state=new|trk,ct_zone=7,ct_nw_src=10.9.0.1,ct_nw_dst=10.9.0.2,ct_nw_proto=6,ct_tp_src=53778,ct_tp_dst=81,ip,in_port=1 (via action) data_len=74 (unbuffered)',
      ' userdata=01',
      'tcp,vlan_tci=0x0000,dl_src=d6:9c:13:91:74:02,dl_dst=ce:42:84:10:d5:a6,nw_src=10.9.0.1,nw_dst=10.9.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=53778,tp_dst=81,tcp_flags=syn tcp_csum:1443',
      'OFPT_ECHO_REQUEST (OF1.5) (xid=0x0): 0 bytes of payload',
      'NXT_PACKET_IN2 (OF1.5) (xid=0x0): table_id=30 cookie=0x0 total_len=98 ct_state=new|trk,ip,in_port=1 (via action) data_len=98 (unbuffered)',
      ' userdata=02',
      'icmp,vlan_tci=0x0000,dl_src=d6:9c:13:91:74:02,dl_dst=ce:42:84:10:d5:a6,nw_src=10.9.0.1,nw_dst=10.9.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0 icmp_csum:f7d4',
      'NXT_PACKET_IN2 (OF1.5) (xid=0x0): table_id=45 cookie=0x0 total_len=94 ct_state=new|trk,ipv6,in_port=2 (via action) data_len=94 (unbuffered)',
      ' userdata=01',
      'udp6,vlan_tci=0x0000,dl_src=d6:9c:13:91:74:02,dl_dst=ce:42:84:10:d5:a6,ipv6_src=fd00::1,ipv6_dst=fd00::2,ipv6_label=0x00000,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=5000,tp_dst=53 udp_csum:8a1c',
    ];
    const r = new PacketInReader();
    const got = lines.map((l) => r.line(l)).filter((p) => p !== undefined);
    expect(got).toEqual([
      {
        table: 45,
        userdata: '01',
        tuple: { proto: 'tcp', src: '10.9.0.1', dst: '10.9.0.2', sport: 53778, dport: 81 },
      },
      {
        table: 30,
        userdata: '02',
        tuple: { proto: 'icmp', src: '10.9.0.1', dst: '10.9.0.2', icmpType: 8, icmpCode: 0 },
      },
      {
        table: 45,
        userdata: '01',
        tuple: { proto: 'udp', src: 'fd00::1', dst: 'fd00::2', sport: 5000, dport: 53 },
      },
    ]);
  });
});

describe('parseDenyCounters', () => {
  const flow = (actions: string, n: number) =>
    `OFPST_FLOW reply (OF1.5) (xid=0x2):\n cookie=0x0, duration=25.288s, table=${T.deny}, n_packets=${n}, n_bytes=1332, idle_age=5, priority=0 actions=${actions}`;
  const meter =
    'OFPST_METER reply (OF1.5) (xid=0x2):\nmeter:1 flow_count:1 packet_in_count:10 byte_in_count:740 duration:16.157s bands:\n0: packet_count:9 byte_count:666';

  it('meter 1 counts every denied packet (its band what it kept back); without samples, the table', () => {
    expect(
      parseDenyCounters(flow('controller(max_len=128,userdata=01,meter_id=1)', 10), meter),
    ).toEqual({
      total: 10,
      sampled: 1,
    });
    // The flow's counter lags (revalidators): the meter's own count is taken.
    expect(
      parseDenyCounters(flow('controller(max_len=128,userdata=01,meter_id=1)', 7), meter),
    ).toEqual({ total: 10, sampled: 1 });
    expect(parseDenyCounters(flow('drop', 10), '')).toEqual({ total: 10, sampled: 0 });
    expect(parseDenyCounters('', meter)).toBeUndefined();
  });
});

describe('ConntrackTracker', () => {
  const line = (sport: number, state?: string) =>
    `tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=${sport},dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=${sport}),zone=7,mark=256${state ? `,protoinfo=(state=${state})` : ''}`;
  const udp =
    'udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=5000,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=5000),zone=7,mark=256';

  it('the first dump seeds; new connections open, TIME_WAIT or gone ones end, once', () => {
    const events: string[] = [];
    const sink = {
      opened: (_k: string, t: { sport?: number; dport?: number; at: number }) =>
        events.push(`open ${t.sport}→${t.dport}@${t.at}`),
      ended: (_k: string, t: { sport?: number; dport?: number; at: number }) =>
        events.push(`end ${t.sport}→${t.dport}@${t.at}`),
    };
    const tracker = new ConntrackTracker();
    const dump = (...l: string[]) => parseOvsConntrack(l.join('\n'));
    tracker.update(dump(line(1, 'ESTABLISHED'), line(2, 'TIME_WAIT')), 1, sink);
    expect(events).toEqual([]);
    tracker.update(
      dump(line(1, 'ESTABLISHED'), line(2, 'TIME_WAIT'), line(3, 'SYN_SENT'), udp),
      2,
      sink,
    );
    expect(events).toEqual(['open 3→80@2', 'open 5000→53@2']);
    events.length = 0;
    // 1 and 3 end; 4 opened and closed between two dumps: both at once; the UDP flow times out.
    tracker.update(dump(line(1, 'TIME_WAIT'), line(3, 'CLOSED'), line(4, 'TIME_WAIT')), 3, sink);
    expect(events).toEqual([
      'end 1→80@3',
      'end 3→80@3',
      'open 4→80@3',
      'end 4→80@3',
      'end 5000→53@3',
    ]);
    events.length = 0;
    tracker.update(dump(), 4, sink);
    expect(events).toEqual([]);
  });
});

describe('FlowCollector with a polling source', () => {
  it('polls on while no manager takes batches; the buffer keeps the records', async () => {
    const state = hostState(1, {
      locals: [LOCAL_A],
      defaults: [{ identity: 256, other: 'allow', peers: [] }],
    });
    let polls = 0;
    let sink: FlowSink | undefined;
    const source: FlowSource = {
      start: (s) => {
        sink = s;
        return Promise.resolve();
      },
      poll: () => {
        polls++;
        sink!.opened(`c${polls}`, {
          at: polls,
          proto: 'tcp',
          src: '10.0.0.1',
          dst: '10.0.0.9',
          sport: 1000 + polls,
          dport: 80,
        });
        return Promise.resolve();
      },
      totals: () => Promise.resolve({ sampled: 0, unsampled: 0 }),
      stop: () => undefined,
    };
    let manager = false;
    const shipped: FlowRecord[] = [];
    const c = new FlowCollector({
      exec: () => Promise.reject(new Error('no commands here')),
      state: () => state,
      send: (b) => {
        if (manager) shipped.push(...b.records);
        return Promise.resolve(manager);
      },
      flushMs: 60_000,
      source,
    });
    await c.start();
    await c.ship();
    await c.ship();
    expect(polls).toBe(2);
    expect(c.buffered).toBe(2);
    manager = true;
    await c.ship();
    expect(shipped.map((r) => r.src.port)).toEqual([1001, 1002, 1003]);
    expect(shipped[0]).toMatchObject({ host: state.host, state: 'new', verdict: 'allow' });
    await c.stop();
  });
});

describe('OvsConntrackReader', () => {
  it('parses what changed; an unchanged line gives the entry it gave before', () => {
    const tcp = (state: string) =>
      `tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=1),zone=7,mark=256,protoinfo=(state=${state})`;
    const udp =
      'udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=5000,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=5000),zone=7,mark=256';
    const r = new OvsConntrackReader();
    const first = r.read([tcp('ESTABLISHED'), udp, ''].join('\n'));
    const second = r.read([tcp('TIME_WAIT'), udp].join('\n'));
    expect(second).toEqual(parseOvsConntrack([tcp('TIME_WAIT'), udp].join('\n')));
    expect(second[1]).toBe(first[1]);
    expect(second[0]).not.toBe(first[0]);
    expect(r.read('')).toEqual([]);
  });
});
