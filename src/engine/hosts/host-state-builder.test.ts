/**
 * The HostState a PEP receives must give, by the lookup order documented in
 * src/model/host-state.ts and nothing else, the same verdicts as `engine.check`.
 * This simulates the agent's evaluation (the kernel does the same with nftables maps)
 * on random models, fresh and after random incremental changes.
 */
import { describe, expect, it } from 'vitest';
import type { HostState, SideVerdict } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import { formatIp, parseIp, type Ip } from '../../model/net.js';
import type { Protocol } from '../../model/types.js';
import { oracleModelToDocuments } from '../../../test/support/oracle/oracle-model.js';
import { makeRng } from '../../../test/support/rng.js';
import { attachToHosts, HOSTS, rangeContains } from '../../../test/support/random-hosts.js';
import { randomChange, randomFlows, randomModel } from '../../../test/support/random-model.js';
import { Engine } from '../engine.js';
import type { Change, CheckRequest } from '../types.js';

/** The documented PEP lookup order, verbatim. */
function pepSide(
  state: HostState,
  local: number,
  direction: 'egress' | 'ingress',
  peer: number,
  addr: Ip,
  proto: Protocol,
  port: number,
): 'allow' | 'deny' {
  const side = state.sides.find((s) => s.identity === local && s.direction === direction);
  if (!side) throw new Error(`host ${state.host} has no ${direction} side for identity ${local}`);
  const hit = (e: { proto: Protocol; ports: readonly [number, number] }) =>
    e.proto === proto && e.ports[0] <= port && port <= e.ports[1];
  const verdict = (v: SideVerdict) => (v === 'deny' ? 'deny' : 'allow');
  const c = side.cidr.find((e) => hit(e) && rangeContains(e.range, addr));
  if (c) return verdict(c.verdict);
  const p = side.peers.find((e) => e.peer === peer && hit(e));
  if (p) return verdict(p.verdict);
  const a = side.any.find(hit);
  if (a) return verdict(a.verdict);
  const d = state.defaults.find((x) => x.identity === local)!;
  return d.peers.find((x) => x.peer === peer)?.verdict ?? d.other;
}

function pepVerdict(
  engine: Engine,
  req: CheckRequest,
  states: Map<string, HostState>,
): 'allow' | 'deny' {
  const proto = req.protocol ?? 'tcp';
  const port = proto === 'icmp' ? 0 : req.port!;
  const any = states.values().next().value as HostState;
  const resolve = (text: string) => {
    const byName = [...states.values()].flatMap((s) => s.locals).find((l) => l.name === text);
    const ip = byName ? parseIp(byName.ips[0]!)! : parseIp(text)!;
    const owner = [...states.values()]
      .flatMap((s) => s.locals)
      .find((l) => l.ips.includes(formatIp(ip)));
    const identity = any.ipcache.find((e) => e.ip === formatIp(ip))?.identity ?? IDENTITY_WORLD;
    return {
      ip,
      owner,
      identity,
      host: owner ? [...states.values()].find((s) => s.locals.includes(owner))!.host : undefined,
    };
  };
  const s = resolve(req.src);
  const d = resolve(req.dst);
  if (s.owner && s.owner === d.owner) return 'allow';
  const egress = s.owner
    ? pepSide(states.get(s.host!)!, s.identity, 'egress', d.identity, d.ip, proto, port)
    : 'allow';
  const ingress = d.owner
    ? pepSide(states.get(d.host!)!, d.identity, 'ingress', s.identity, s.ip, proto, port)
    : 'allow';
  void engine;
  return egress === 'allow' && ingress === 'allow' ? 'allow' : 'deny';
}

function compare(engine: Engine, flows: CheckRequest[], seed: number, revision: number): number {
  const states = new Map(HOSTS.map((h) => [h, engine.hostState(h, revision)]));
  let n = 0;
  for (const f of flows) {
    let want: string;
    try {
      want = engine.check(f).verdict;
    } catch {
      continue; // flows naming records a change removed
    }
    const got = pepVerdict(engine, f, states);
    if (got !== want)
      expect.fail(
        `seed ${seed}: PEP says ${got}, check says ${want} for ${JSON.stringify(f)}\n${JSON.stringify(engine.check(f), null, 1)}`,
      );
    n++;
  }
  return n;
}

describe('HostState agrees with check (simulated PEP)', () => {
  it('on fresh random models', () => {
    let compared = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const rng = makeRng(seed);
      const model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine();
      engine.load(attachToHosts(oracleModelToDocuments(model), rng), 0);
      compared += compare(engine, randomFlows(rng, model, 40), seed, 1);
    }
    expect(compared).toBeGreaterThan(4000);
  });

  it('after random incremental changes', () => {
    let compared = 0;
    for (let seed = 1000; seed < 1060; seed++) {
      const rng = makeRng(seed);
      let model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine();
      const docs = attachToHosts(oracleModelToDocuments(model), rng);
      engine.load(docs, 0);
      for (let step = 1; step <= 8; step++) {
        const next = randomChange(rng, model);
        const change = next.change;
        if (change.op === 'put' && change.doc.kind === 'Interface')
          change.doc = { ...change.doc, instance: `i${rng.int(0, 2)}` };
        try {
          engine.apply([change], step);
        } catch {
          continue; // a change the engine refuses (the generator is not always valid)
        }
        model = next.model;
        compared += compare(engine, randomFlows(rng, model, 20), seed, step);
      }
    }
    expect(compared).toBeGreaterThan(3000);
  });
});

describe('the verdict fast path (pair tables) agrees with check', () => {
  it('on random models, also after changes', () => {
    let compared = 0;
    for (let seed = 5000; seed < 5080; seed++) {
      const rng = makeRng(seed);
      let model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine();
      engine.load(oracleModelToDocuments(model), 0);
      for (let step = 0; step < 4; step++) {
        const names = model.interfaces.map((i) => i.name);
        for (const f of randomFlows(rng, model, 30)) {
          const src = rng.pick(names);
          const dst = rng.pick(names);
          const req = { ...f, src, dst };
          const proto = req.protocol ?? 'tcp';
          if (proto !== 'icmp' && req.port === undefined) continue;
          const want = engine.check(req).verdict === 'allow';
          expect(
            engine.verdict(src, dst, proto, req.port ?? 0),
            `seed ${seed} ${JSON.stringify(req)}`,
          ).toBe(want);
          compared++;
        }
        const next = randomChange(rng, model);
        try {
          engine.apply([next.change], step + 1);
          model = next.model;
        } catch {
          /* an invalid generated change: keep the model */
        }
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });
});

describe('the host index is maintained incrementally', () => {
  it('equals a fresh build after random changes, and so do the per-record and per-identity reads', () => {
    let compared = 0;
    for (let seed = 2000; seed < 2040; seed++) {
      const rng = makeRng(seed);
      let model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine();
      const docs = attachToHosts(oracleModelToDocuments(model), rng);
      engine.load(docs, 0);
      engine.hostState('h0', 0); // build the index now: every later change updates it
      const applied: Change[][] = [];
      for (let step = 1; step <= 10; step++) {
        const next = randomChange(rng, model);
        const change = next.change;
        if (change.op === 'put' && change.doc.kind === 'Interface')
          change.doc = { ...change.doc, instance: `i${rng.int(0, 2)}` };
        // Sometimes an instance moves to another host (every record on it moves).
        const batch: Change[] = [change];
        if (rng.int(0, 3) === 0) {
          const i = rng.int(0, 2);
          batch.push({
            op: 'put',
            doc: { kind: 'Instance', name: `i${i}`, host: HOSTS[rng.int(0, 2)]! },
          });
        }
        try {
          engine.apply(batch, step);
        } catch {
          continue;
        }
        applied.push(batch);
        model = next.model;
        // The same history replayed on an engine whose index is built from scratch.
        const fresh = new Engine();
        fresh.load(docs, 0);
        applied.forEach((b, i) => fresh.apply(b, i + 1));
        for (const h of HOSTS) {
          const state = engine.hostState(h, step);
          expect(state).toEqual(fresh.hostState(h, step));
          for (const id of state.defaults.map((d) => d.identity)) {
            const mine = engine.identityRules(id);
            expect(mine.defaults).toEqual(state.defaults.find((d) => d.identity === id));
            expect(mine.sides).toEqual(state.sides.filter((s) => s.identity === id));
          }
          // Every attached record is local on one of HOSTS: its wire form is that plus
          // the host, and other hosts list the same record as a remote.
          for (const l of state.locals)
            expect(engine.attachedRecord(l.name)).toEqual({ ...l, host: h });
          for (const r of state.remotes) expect(engine.attachedRecord(r.name)).toMatchObject(r);
          compared++;
        }
        const ipcache = engine.hostState('', step).ipcache;
        const names = engine.list('Interface').map((d) => d.name);
        const perName = names.flatMap((n) => engine.ipcacheOf(n));
        expect(new Set(perName.map((e) => JSON.stringify(e)))).toEqual(
          new Set(ipcache.map((e) => JSON.stringify(e))),
        );
      }
    }
    expect(compared).toBeGreaterThan(600);
  });
});
