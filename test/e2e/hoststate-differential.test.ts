/**
 * What the PEPs would enforce equals `engine.check`, for random models: every
 * record is attached to an instance on one of three hosts, each host's
 * `engine.hostState` is judged with the agent's own lookup (src/agent/evaluate.ts,
 * which render.test.ts ties to the rendered nftables maps and the privileged
 * tests tie to the kernel), egress on the source's host and ingress on the
 * destination's. Pure: no kernel needed.
 */
import { describe, expect, it } from 'vitest';
import { judgeFlow } from '../../src/agent/evaluate.js';
import { Engine } from '../../src/engine/index.js';
import { oracleModelToDocuments } from '../support/oracle/oracle-model.js';
import type { HostState } from '../../src/model/host-state.js';
import { checkHostState } from '../../src/model/host-state-check.js';
import { formatIp, parseIp } from '../../src/model/net.js';
import type { Protocol } from '../../src/model/types.js';
import { randomChange, randomFlows, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';
import type { OracleModel } from '../support/oracle/oracle-model.js';

const HOSTS = ['h1', 'h2', 'h3'];

/** Attaches every record to its own instance on a random host. */
function placed(rng: Rng, model: OracleModel): OracleModel {
  const m = structuredClone(model);
  m.instances = m.interfaces.map((r) => ({ name: `vm-${r.name}`, host: rng.pick(HOSTS) }));
  m.interfaces = m.interfaces.map((r) => ({ ...r, instance: `vm-${r.name}` }));
  return m;
}

/** The enforced verdict: the source host's egress side, then the destination host's ingress side. */
function enforced(
  states: Map<string, HostState>,
  src: string,
  dst: string,
  proto: Protocol,
  port: number,
): 'allow' | 'deny' {
  const flow = { src, dst, proto, port: proto === 'icmp' ? 0 : port };
  for (const s of states.values()) if (judgeFlow(s, flow) === 'deny') return 'deny';
  return 'allow';
}

function addressOf(engine: Engine, endpoint: string): string {
  const ip = parseIp(endpoint);
  if (ip) return formatIp(ip);
  const doc = engine.get('Interface', endpoint) as { ips: string[] } | undefined;
  return formatIp(parseIp(doc!.ips[0]!)!);
}

function compare(
  seed: number,
  engine: Engine,
  rng: Rng,
  model: OracleModel,
  revision: number,
): number {
  let compared = 0;
  const states = new Map(HOSTS.map((h) => [h, engine.hostState(h, revision)]));
  // Whatever the engine sends, the agent's wire check accepts (it refuses only garbage).
  for (const s of states.values()) checkHostState(s);
  for (const flow of randomFlows(rng, model, 60)) {
    const src = addressOf(engine, flow.src);
    const dst = addressOf(engine, flow.dst);
    const owner = new Map(
      model.interfaces.flatMap((r) => r.ips.map((ip) => [formatIp(parseIp(ip)!), r.name] as const)),
    );
    // Neither end a record: no PEP involved. One record to itself (any of its
    // addresses): the traffic never leaves the instance.
    if (!owner.has(src) && !owner.has(dst)) continue;
    if (src === dst || (owner.has(src) && owner.get(src) === owner.get(dst))) continue;
    // A record attached nowhere (random changes add some) has no PEP to enforce it.
    const unattached = (a: string) =>
      owner.has(a) && !model.interfaces.find((r) => r.name === owner.get(a))!.instance;
    if (unattached(src) || unattached(dst)) continue;
    const proto = flow.protocol ?? 'tcp';
    const port = flow.port ?? 0;
    const want = engine.check(flow).verdict;
    const got = enforced(states, src, dst, proto, port);
    expect({ seed, revision, flow, got }).toEqual({ seed, revision, flow, got: want });
    compared++;
  }
  return compared;
}

describe('host states enforce what engine.check says', () => {
  it('for random models placed on three hosts, and after random changes', () => {
    let compared = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const rng = makeRng(seed);
      let model = placed(rng, randomModel(rng, { records: 10, policies: 6 }));
      const engine = new Engine();
      engine.load(oracleModelToDocuments(model), 0);
      compared += compare(seed, engine, rng, model, 1);
      for (let step = 0; step < 3; step++) {
        const next = randomChange(rng, model);
        try {
          engine.apply([next.change], step + 1);
        } catch {
          continue; // a change the engine refuses (e.g. an unattached new record) is not the subject here
        }
        model = next.model;
        compared += compare(seed, engine, rng, model, step + 2);
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });
});
