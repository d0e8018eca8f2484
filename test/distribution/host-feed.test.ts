/**
 * The delta protocol against the engine's own snapshots: for random models with
 * instances on hosts and random changes (records, tags, attachments, instance moves,
 * policies, partitions, settings), snapshot(R) folded with the rendered deltas equals
 * snapshot(R'); resume from a revision; snapshot fallback when the ring lost it;
 * coalescing of several steps into one delta.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { Change, EngineDelta } from '../../src/engine/index.js';
import {
  oracleModelToDocuments,
  applyOracleChanges,
  type OracleModel,
} from '../support/oracle/oracle-model.js';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import type { HostState } from '../../src/model/host-state.js';
import { HostFeed } from '../../src/server/distribution/host-feed.js';
import type { ChangeRecord } from '../../src/store/types.js';
import { randomChange, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';

const HOSTS = ['h0', 'h1', 'h2'];

function withInstances(rng: Rng, model: OracleModel): OracleModel {
  const m = structuredClone(model);
  m.instances = [0, 1, 2, 3].map((i) => ({
    name: `i${i}`,
    host: rng.pick(HOSTS),
    ...(rng.chance(0.3) ? { netns: `ns${i}` } : {}),
  }));
  for (const r of m.interfaces) if (rng.chance(0.8)) r.instance = `i${rng.int(0, 3)}`;
  return m;
}

/** A random change, a third of them about attachments and instances. */
function change(rng: Rng, model: OracleModel): Change {
  const roll = rng.int(0, 8);
  if (roll === 0 && model.interfaces.length > 0) {
    const r = structuredClone(rng.pick(model.interfaces));
    if (r.instance !== undefined && rng.chance(0.3)) delete r.instance;
    else r.instance = `i${rng.int(0, 3)}`;
    return { op: 'put', doc: { kind: 'Interface', ...r } };
  }
  if (roll === 1) {
    const inst = structuredClone(rng.pick(model.instances));
    inst.host = rng.pick(HOSTS);
    if (rng.chance(0.3)) inst.netns = `ns-${rng.int(0, 9)}`;
    return { op: 'put', doc: { kind: 'Instance', ...inst } };
  }
  return randomChange(rng, model).change;
}

interface Harness {
  engine: Engine;
  feed: HostFeed;
  model: OracleModel;
  revision: number;
  step(c: Change): EngineDelta | undefined;
}

function harness(seed: number, ringSize = 1024, maxDeltaEntries = 5000): Harness {
  const rng = makeRng(seed);
  const model = withInstances(rng, randomModel(rng, { records: 10, policies: 5 }));
  const engine = new Engine({ identityGraceMs: 0 });
  engine.load(oracleModelToDocuments(model), 1000);
  const feed = new HostFeed(() => engine, { ringSize, maxDeltaEntries });
  feed.reset(1, engine.hostDelta());
  const h: Harness = {
    engine,
    feed,
    model,
    revision: 1,
    step(c) {
      let delta: EngineDelta;
      try {
        delta = engine.apply([c], 1000 + h.revision);
      } catch {
        return undefined; // an invalid random change: nothing committed
      }
      h.model = applyOracleChanges(h.model, [c]);
      h.revision++;
      const record = {
        revision: h.revision,
        at: new Date(1000 + h.revision).toISOString(),
        actor: 't',
        action: 't',
        changes: [],
      } as unknown as ChangeRecord;
      feed.onRecord(record, engine.hostDelta(delta));
      return delta;
    },
  };
  return h;
}

/** Fold what a stream at `seq` would receive onto `state` (`sidePatches`: an agent that folds them). */
function follow(feed: HostFeed, host: string, state: HostState, seq: number, sidePatches = false) {
  const r = feed.nextMessage(host, seq, { sidePatches });
  if (r.kind === 'none') return { state, seq, kind: 'none' as const };
  if (r.kind === 'snapshot') return { state: r.state, seq: r.seq, kind: 'snapshot' as const };
  const msg = JSON.parse(r.json) as HostMessage;
  expect(msg.type).toBe('delta');
  if (msg.type !== 'delta') throw new Error('unreachable');
  return { state: applyHostDelta(state, msg), seq: r.seq, kind: 'delta' as const };
}

/** An engine that counts full host states built (O(records) each). */
class CountingEngine extends Engine {
  hostStates = 0;
  override hostState(host: string, revision: number): HostState {
    this.hostStates++;
    return super.hostState(host, revision);
  }
}

describe('HostFeed', () => {
  it('builds no full host state per change: only changed records and identities are read', () => {
    for (let seed = 300; seed < 310; seed++) {
      const rng = makeRng(seed);
      let model = withInstances(rng, randomModel(rng, { records: 10, policies: 5 }));
      const engine = new CountingEngine({ identityGraceMs: 0 });
      engine.load(oracleModelToDocuments(model), 1000);
      const feed = new HostFeed(() => engine);
      feed.reset(1, engine.hostDelta());
      let steps = 0;
      feed.onStep(() => steps++);
      for (let rev = 2; rev < 40; rev++) {
        const c = change(rng, model);
        let delta: EngineDelta;
        try {
          delta = engine.apply([c], 1000 + rev);
        } catch {
          continue;
        }
        model = applyOracleChanges(model, [c]);
        const at = new Date(1000 + rev).toISOString();
        feed.onRecord(
          { revision: rev, at, actor: 't', action: 't', changes: [] } as unknown as ChangeRecord,
          engine.hostDelta(delta),
        );
      }
      expect(steps).toBeGreaterThan(10);
      expect(engine.hostStates).toBe(0);
    }
  });

  it('snapshot(R) + deltas == snapshot(R′) on random changes, step by step, with and without side patches', () => {
    let patches = 0;
    for (let seed = 1; seed <= 25; seed++) {
      const h = harness(seed);
      // Per host, a stream of whole sides and one of side patches.
      const streams = [false, true].flatMap((sidePatches) =>
        HOSTS.map((host) => ({
          host,
          sidePatches,
          state: h.feed.snapshot(host),
          seq: h.feed.head,
        })),
      );
      const rng = makeRng(seed * 7919);
      for (let i = 0; i < 40; i++) {
        h.step(change(rng, h.model));
        const snapshots = new Map(HOSTS.map((host) => [host, h.feed.snapshot(host)]));
        for (const s of streams) {
          const r = h.feed.nextMessage(s.host, s.seq, { sidePatches: s.sidePatches });
          if (r.kind === 'delta' && r.json.includes('"sidePatches"')) patches++;
          const f = follow(h.feed, s.host, s.state, s.seq, s.sidePatches);
          expect(f.kind, `seed ${seed} change ${i}`).not.toBe('snapshot');
          s.state = f.state;
          s.seq = f.seq;
          // Whole-side streams (covered by the other suites too) are compared every
          // fourth step: a wrong delta still shows, in the state it folds into.
          if (!s.sidePatches && i % 4 !== 3) continue;
          const what = `seed ${seed} change ${i} host ${s.host} patches ${s.sidePatches}`;
          expect(f.state, what).toEqual(snapshots.get(s.host));
        }
      }
    }
    // The random changes move identities in and out of rule peers: patches were sent.
    expect(patches).toBeGreaterThan(20);
  }, 60_000); // ~15 s idle; twice that on a loaded machine

  it('coalesces many steps into one delta for a slow reader, equal to the snapshot', () => {
    for (let seed = 100; seed < 110; seed++) {
      const h = harness(seed);
      const start = new Map(HOSTS.map((host) => [host, h.feed.snapshot(host)]));
      const seq0 = h.feed.head;
      const rng = makeRng(seed);
      for (let i = 0; i < 30; i++) h.step(change(rng, h.model));
      for (const host of HOSTS)
        for (const sidePatches of [false, true]) {
          const f = follow(h.feed, host, start.get(host)!, seq0, sidePatches);
          expect(f.kind).toBe('delta');
          expect(f.state).toEqual(h.feed.snapshot(host));
          expect(h.feed.nextMessage(host, f.seq).kind).toBe('none');
        }
    }
  });

  it('resumes from a revision it still holds, and falls back to a snapshot once the ring lost it', () => {
    const h = harness(5, 8);
    const rng = makeRng(55);
    const at = h.feed.revision;
    const before = h.feed.snapshot('h0');
    while (h.feed.revision < at + 3) h.step(change(rng, h.model));
    const pos = h.feed.positionFor(at);
    expect(typeof pos).toBe('number');
    const f = follow(h.feed, 'h0', before, pos as number);
    expect(f.state).toEqual(h.feed.snapshot('h0'));
    expect(h.feed.positionFor(h.feed.revision)).toBe(h.feed.head);
    expect(h.feed.positionFor(h.feed.revision + 5)).toBe('future');
    while (h.feed.revision < at + 20) h.step(change(rng, h.model));
    expect(h.feed.positionFor(at)).toBe('snapshot');
    // A stream positioned before the ring's start is sent a snapshot too.
    expect(h.feed.nextMessage('h0', 0).kind).toBe('snapshot');
  });

  it('turns a coalesced delta larger than the limit into a snapshot', () => {
    const h = harness(9, 1024, 0);
    const rng = makeRng(99);
    const seq0 = h.feed.head;
    // Step until the coalesced delta has entries every host receives (ipcache moves):
    // a change that touches nothing on h1 leaves an empty delta, which stays a delta.
    let moved = false;
    for (let i = 0; i < 200 && !moved; i++)
      moved = (h.step(change(rng, h.model))?.ipcacheUpsert.length ?? 0) > 0;
    expect(moved).toBe(true);
    const r = h.feed.nextMessage('h1', seq0);
    expect(r.kind).toBe('snapshot');
  });

  it('shares the ipcache and records bytes of a step between hosts', () => {
    const h = harness(3);
    const rng = makeRng(33);
    const seq = h.feed.head;
    // Find a change that moves addresses.
    for (let i = 0; i < 100; i++) {
      const d = h.step(change(rng, h.model));
      if (d && d.ipcacheUpsert.length > 0) break;
    }
    const texts = HOSTS.map((host) => {
      const r = h.feed.nextMessage(host, h.feed.head - 1);
      return r.kind === 'delta' ? r.json : '';
    });
    const shared = (t: string) =>
      t.slice(0, t.search(/,"(sides|defaults|sidesRemoved|sidePatches|defaultsRemoved)"|}\n$/));
    expect(texts[0]).toContain('"ipcache"');
    expect(shared(texts[0]!)).toBe(shared(texts[1]!));
    expect(shared(texts[1]!)).toBe(shared(texts[2]!));
    void seq;
  });
});
