/**
 * The datapath conformance suite (support/datapath-conformance.ts) on nftables hosts
 * only. Its twin, conformance-ovs.privileged.test.ts, runs the same scenarios with
 * Open vSwitch hosts. Then the nftables PEP's own steering parts
 * (docs/adr/0008-steering.md): the Group Policy ID on the wire is the steer class to the
 * via host and the source's identity after it; a restarted agent adopts its policy
 * routing and keeps steering; removing the routes removes every steering rule, route,
 * chain and the VXLAN devices' translation table.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { hostAgent } from './support/agents.js';
import { datapathConformance, type ConformanceContext } from './support/datapath-conformance.js';
import { engineHostState } from './support/engine-states.js';
import { decodeVxlanPcap } from './support/gbp.js';
import { forwarded } from './support/middlebox.js';
import { routeTo, STEER_RECORDS, STEERED } from './support/steer-model.js';
import { sh } from './support/topology.js';
import { capture, tcpConnects } from './support/traffic.js';

function nftOwn(ctx: ConformanceContext): void {
  const ns = (name: string) => ctx.topo.instanceNs(name);

  it('carries the steer class to the via host, then the source identity', async () => {
    await ctx.setRoutes([routeTo('dst', 'fw'), routeTo('dst2', 'fw3')]);
    const [h1, h2] = ctx.topo.hosts;
    const files = [0, 1].map((i) => join(tmpdir(), `${ctx.topo.prefix}-leg${i}.pcap`));
    const legs = [
      await capture(
        ctx.topo.underlayNs,
        'br0',
        files[0]!,
        `udp port 4789 and src host ${h1!.underlayIp}`,
      ),
      await capture(
        ctx.topo.underlayNs,
        'br0',
        files[1]!,
        `udp port 4789 and src host ${h2!.underlayIp}`,
      ),
    ];
    try {
      expect(await tcpConnects(ns('src'), STEER_RECORDS.dst.ip, STEERED, 1500)).toBe(true);
    } finally {
      // tcpdump hands packets over in blocks (up to ~1 s late without immediate mode).
      await new Promise((r) => setTimeout(r, 1200));
      for (const l of legs) await l.stop();
    }
    const [toVia, fromVia] = files.map((f) => {
      const pkts = decodeVxlanPcap(readFileSync(f)).filter(
        (p) => p.innerSrc === STEER_RECORDS.src.ip && p.innerDst === STEER_RECORDS.dst.ip,
      );
      rmSync(f, { force: true });
      return [...new Set(pkts.map((p) => p.groupPolicyId))];
    });
    const steer = ctx.engine.steering().find((c) => c.via === 'fw')!.class;
    expect(toVia).toEqual([steer]);
    expect(fromVia).toEqual([ctx.engine.recordIdentity('src')]);
  });

  it('a restarted agent adopts its policy routing and keeps steering', async () => {
    const h1 = ctx.topo.hosts[0]!;
    const rules = () => sh(['ip', '-n', h1.netns, 'rule', 'show', 'pref', '7300']);
    const before = rules();
    expect(before).toMatch(/fwmark/);
    const agent = hostAgent(h1);
    await agent.start();
    ctx.agents.set('h1', agent);
    await agent.applyState(engineHostState(ctx.engine, ctx.topo, 'h1', ctx.current()));
    expect(rules()).toBe(before);
    const fw = forwarded(ns('fw'));
    expect(await tcpConnects(ns('src'), STEER_RECORDS.dst.ip, STEERED, 1500)).toBe(true);
    expect(forwarded(ns('fw'))).toBeGreaterThan(fw);
  });

  it('removing the routes removes every steering rule, route, chain and table', async () => {
    await ctx.setRoutes([]);
    for (const h of ctx.topo.hosts) {
      for (const fam of ['-4', '-6']) {
        expect(sh(['ip', '-n', h.netns, fam, 'rule', 'show'])).not.toMatch(/fwmark/);
        expect(
          sh(['ip', '-n', h.netns, fam, 'route', 'show', 'table', 'all', 'proto', '118']),
        ).not.toMatch(/table 7[3-5]\d\d/);
      }
      const nft = (argv: string[]) => sh(['ip', 'netns', 'exec', h.netns, 'nft', ...argv]);
      expect(nft(['list', 'table', 'inet', 'vnp'])).not.toMatch(/pre-steer|transit|from-via/);
      // Nor the VXLAN devices' steer-class translation (src/agent/steer-wire.ts).
      expect(nft(['list', 'tables'])).not.toMatch(/vnp-steer/);
    }
  });
}

datapathConformance('nftables', nftOwn);
