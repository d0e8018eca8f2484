/**
 * The benchmark's policies are what they claim: N entries per side, disjoint, the
 * measured flows allowed (by the real judge), a port nothing allows denied, the vnp
 * table's rule count independent of N, and the linear list one rule per entry.
 */
import { describe, expect, it } from 'vitest';
import { judgeFlow } from '../src/agent/evaluate.js';
import { Engine } from '../src/engine/index.js';
import type { Document } from '../src/model/types.js';
import { renderRuleset } from '../src/agent/nft/render.js';
import {
  benchRecords,
  benchStates,
  changePort,
  conntrackOnlyRuleset,
  ID_A,
  ID_B,
  IP_A,
  IP_B,
  linearRuleset,
  noPolicyStates,
  PORT_CONN,
  PORT_IPERF,
  sideEntries,
} from './datapath-states.js';

const recs = benchRecords((n) => `vnpb-x-i-${n}`);
const underlay = { h1: '192.168.77.1', h2: '192.168.77.2' };

function ruleCount(doc: ReturnType<typeof renderRuleset>): number {
  return doc.nftables.filter((c) => 'add' in c && 'rule' in (c.add as object)).length;
}

describe('bench datapath states', () => {
  it('has n entries per side, disjoint, the flows last', () => {
    for (const n of [10, 10_000]) {
      const e = sideEntries(n, ID_B);
      expect(e).toHaveLength(n);
      const keys = new Set(e.map((x) => `${x.peer}/${x.proto}/${x.ports[0]}-${x.ports[1]}`));
      expect(keys.size).toBe(n);
      expect(e.slice(-2).map((x) => [x.peer, x.ports[0]])).toEqual([
        [ID_B, PORT_IPERF],
        [ID_B, PORT_CONN],
      ]);
    }
  });

  it('allows the measured flows and denies another port on both hosts', () => {
    const st = benchStates(recs, underlay, 1000, 1, changePort(0));
    const flow = (port: number) => ({ src: IP_A, dst: IP_B, proto: 'tcp' as const, port });
    for (const h of ['h1', 'h2']) {
      const s = st.get(h)!;
      expect(judgeFlow(s, flow(PORT_IPERF))).toBe('allow');
      expect(judgeFlow(s, flow(PORT_CONN))).toBe('allow');
      expect(judgeFlow(s, flow(9090))).toBe('deny');
    }
    expect(st.get('h1')!.sides.find((s) => s.identity === ID_A)!.peers).toHaveLength(1001);
  });

  it('gives "no policy" the sides and defaults the engine gives the records without policies', () => {
    const engine = new Engine();
    engine.load(
      [
        { kind: 'Subnet', name: 'net', cidr: '10.10.0.0/16' },
        ...recs.flatMap((r): Document[] => [
          { kind: 'Instance', name: `vm-${r.name}`, host: r.host, netns: r.netns! },
          {
            kind: 'Interface',
            name: r.name,
            subnet: 'net',
            ips: r.ips,
            instance: `vm-${r.name}`,
            tags: {},
          },
        ]),
      ],
      0,
    );
    const flow = (port: number) => ({ src: IP_A, dst: IP_B, proto: 'tcp' as const, port });
    const mine = noPolicyStates(recs, underlay, 1);
    for (const h of ['h1', 'h2']) {
      const theirs = engine.hostState(h, 1);
      // The engine gives both records one identity (same tags): compare per local record.
      const per = (s: typeof theirs) => {
        const id = s.locals[0]!.identity;
        const anon = <T extends { identity: number }>(x: T) => ({ ...x, identity: 0 });
        return {
          sides: s.sides.filter((x) => x.identity === id).map(anon),
          defaults: s.defaults.filter((x) => x.identity === id).map(anon),
        };
      };
      expect(per(mine.get(h)!)).toEqual(per(theirs));
      expect(per(theirs).defaults).toHaveLength(1);
      for (const port of [PORT_IPERF, PORT_CONN, 9090])
        expect(judgeFlow(mine.get(h)!, flow(port))).toBe('allow');
    }
  });

  it('renders a vnp table whose rule count does not grow with the entries', () => {
    const rules = (n: number) =>
      ruleCount(renderRuleset(benchStates(recs, underlay, n, 1).get('h1')!));
    expect(rules(10_000)).toBe(rules(10));
  });

  it('emits the linear list as one rule per entry, the flow last', () => {
    const text = linearRuleset('h1', 1000);
    const rules = text.split('\n').filter((l) => l.includes(' accept') && l.includes('saddr'));
    expect(rules).toHaveLength(1000);
    expect(rules.at(-1)!.trim()).toBe(
      `ip saddr ${IP_A} ip daddr ${IP_B} tcp dport ${PORT_CONN} accept`,
    );
    expect(linearRuleset('h2', 10)).toContain(`ip saddr ${IP_A} ip daddr ${IP_B} tcp dport`);
    expect(conntrackOnlyRuleset()).toContain('policy accept');
  });
});
