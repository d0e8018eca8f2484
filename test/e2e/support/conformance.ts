/**
 * The datapath conformance check both PEP kinds run: every (src, dst, port) TCP flow
 * of the engine model and some ICMP, each real outcome equal to `engine.check`.
 */
import { expect } from 'vitest';
import type { Engine } from '../../../src/engine/index.js';
import { PORTS, RECORDS } from './engine-model.js';
import type { Topology } from './topology.js';
import { pings, tcpConnects } from './traffic.js';

/**
 * @example await compareAll(engine, topo)
 */
export async function compareAll(engine: Engine, topo: Topology): Promise<void> {
  const names = Object.keys(RECORDS);
  const flows = names.flatMap((src) =>
    names.filter((d) => d !== src).flatMap((dst) => PORTS.map((port) => ({ src, dst, port }))),
  );
  const actual = await Promise.all(
    flows.map((f) => tcpConnects(topo.instanceNs(f.src), RECORDS[f.dst]!.ip, f.port)),
  );
  const got = flows.map(
    (f, i) => `${f.src}->${f.dst}:tcp/${f.port} ${actual[i] ? 'allow' : 'deny'}`,
  );
  const want = flows.map(
    (f) =>
      `${f.src}->${f.dst}:tcp/${f.port} ${engine.check({ src: f.src, dst: f.dst, protocol: 'tcp', port: f.port }).verdict}`,
  );
  expect(got).toEqual(want);
  // Both verdicts occur, so the comparison can fail either way.
  expect(want.some((w) => w.endsWith('allow')) && want.some((w) => w.endsWith('deny'))).toBe(true);
  const icmp = [
    ['web', 'app'],
    ['app', 'web'],
    ['ops', 'db'],
    ['web', 'ops'],
  ] as const;
  const pinged = await Promise.all(icmp.map(([s, d]) => pings(topo.instanceNs(s), RECORDS[d]!.ip)));
  expect(icmp.map(([s, d], i) => `${s}->${d}:icmp ${pinged[i] ? 'allow' : 'deny'}`)).toEqual(
    icmp.map(
      ([s, d]) => `${s}->${d}:icmp ${engine.check({ src: s, dst: d, protocol: 'icmp' }).verdict}`,
    ),
  );
}
