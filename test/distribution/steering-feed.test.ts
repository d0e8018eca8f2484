/**
 * Steering through the agent protocol: route entries (in egress sides) and the
 * steer-class table reach every host by deltas; snapshot(R) folded with the rendered
 * deltas equals snapshot(R′) while routes come, change, renumber and go — step by
 * step and coalesced.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { Change } from '../../src/engine/index.js';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import type { HostState } from '../../src/model/host-state.js';
import type { Document, SteeringRoute } from '../../src/model/types.js';
import { routePolicy, steerIface, STEERING_DOCS } from '../support/steering-docs.js';
import { applyOracleChanges, oracleModelToDocuments } from '../support/oracle/oracle-model.js';
import { HostFeed } from '../../src/server/distribution/host-feed.js';
import type { ChangeRecord } from '../../src/store/types.js';
import { randomChange, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';

const HOSTS = ['h1', 'h2', 'h3'];
const iface = steerIface;
const policy = routePolicy;
const docs: Document[] = [...STEERING_DOCS];

const changes: Change[] = [
  {
    op: 'put',
    doc: policy('p', 10, [{ to: { selector: 'app == "db"' }, ports: ['tcp/5432'], via: 'fw-b' }]),
  },
  { op: 'put', doc: policy('q', 20, [{ to: { cidr: '10.0.0.0/25' }, via: 'fw-a' }]) },
  { op: 'put', doc: iface('web2', '10.0.0.2', 'web', 'i2') },
  // A new address inside a route's cidr splits the source's route entries there.
  { op: 'put', doc: iface('cache', '10.0.0.5', 'cache', 'i3') },
  { op: 'put', doc: iface('cache', '10.0.0.6', 'cache', 'i3') },
  { op: 'put', doc: iface('fw-b', '10.0.0.11', 'fw', 'i3') },
  { op: 'put', doc: iface('db', '10.0.0.3', 'other', 'i3') },
  { op: 'delete', kind: 'Policy', name: 'q' },
  { op: 'put', doc: policy('p', 10, []) },
];

function run(coalesce: boolean): void {
  const engine = new Engine({ identityGraceMs: 0 });
  engine.load(docs, 0);
  const feed = new HostFeed(() => engine);
  feed.reset(1, engine.hostDelta());
  const states = new Map(HOSTS.map((h) => [h, feed.snapshot(h)]));
  const seqs = new Map(HOSTS.map((h) => [h, feed.head]));
  let revision = 1;
  const follow = () => {
    for (const host of HOSTS) {
      const r = feed.nextMessage(host, seqs.get(host)!);
      if (r.kind === 'none') continue;
      expect(r.kind).toBe('delta');
      if (r.kind !== 'delta') return;
      const msg = JSON.parse(r.json) as HostMessage;
      if (msg.type !== 'delta') throw new Error('not a delta');
      const next: HostState = applyHostDelta(states.get(host)!, msg);
      states.set(host, next);
      seqs.set(host, r.seq);
      expect(next, `host ${host} at ${revision}`).toEqual(feed.snapshot(host));
    }
  };
  let sawSteering = false;
  for (const c of changes) {
    const delta = engine.apply([c], revision * 10);
    revision++;
    feed.onRecord(
      { revision, at: new Date(revision).toISOString(), changes: [] } as unknown as ChangeRecord,
      engine.hostDelta(delta),
    );
    if (feed.snapshot('h2').steering?.length) sawSteering = true;
    if (!coalesce) follow();
  }
  follow();
  expect(sawSteering).toBe(true);
  expect(states.get('h1')!.steering).toBeUndefined();
}

describe('steering over the host feed', () => {
  it('snapshot + deltas == snapshot, step by step', () => run(false));
  it('snapshot + one coalesced delta == snapshot', () => run(true));
});

/** Random routes on a policy: peers borrowed from its rules, vias from the records. */
function withRoutes(rng: Rng, doc: Document, vias: string[]): Document {
  if (doc.kind !== 'Policy') return doc;
  const peers = [...doc.egress.map((r) => r.to), ...doc.ingress.map((r) => r.from)];
  const routes: SteeringRoute[] = [];
  for (let i = rng.int(0, 2); i > 0; i--) {
    // A cidr of its own (not a rule's): its entries split at every record address.
    const to = rng.chance(0.3)
      ? { cidr: rng.pick(['0.0.0.0/0', '::/0']) }
      : rng.chance(0.7) && peers.length
        ? rng.pick(peers)
        : undefined;
    routes.push({
      ...(to ? { to } : {}),
      ...(rng.chance(0.5) ? { ports: ['tcp/80-90'] } : {}),
      via: rng.pick(vias),
    });
  }
  return { ...doc, routes };
}

describe('steering over the host feed, random models', () => {
  it('snapshot + deltas == snapshot with random routes, attachments and changes', () => {
    let steered = 0;
    for (let seed = 1; seed <= 15; seed++) {
      const rng = makeRng(seed * 104729);
      let model = randomModel(rng, { records: 10, policies: 5 });
      const vias = model.interfaces.map((i) => i.name);
      const instances: Document[] = [0, 1, 2, 3].map((i) => ({
        kind: 'Instance',
        name: `i${i}`,
        host: rng.pick(HOSTS),
      }));
      const docs = oracleModelToDocuments(model).map((d) =>
        d.kind === 'Interface' && rng.chance(0.8)
          ? { ...d, instance: `i${rng.int(0, 3)}` }
          : withRoutes(rng, d, vias),
      );
      const engine = new Engine({ identityGraceMs: 0 });
      engine.load([...instances, ...docs], 0);
      const feed = new HostFeed(() => engine);
      feed.reset(1, engine.hostDelta());
      const states = new Map(HOSTS.map((h) => [h, feed.snapshot(h)]));
      const seqs = new Map(HOSTS.map((h) => [h, feed.head]));
      let revision = 1;
      for (let i = 0; i < 30; i++) {
        let c: Change = randomChange(rng, model).change;
        if (c.op === 'put' && c.doc.kind === 'Policy')
          c = { op: 'put', doc: withRoutes(rng, c.doc, vias) };
        if (c.op === 'put' && c.doc.kind === 'Interface' && rng.chance(0.7))
          c = { op: 'put', doc: { ...c.doc, instance: `i${rng.int(0, 3)}` } };
        let delta;
        try {
          delta = engine.apply([c], 10 + i);
        } catch {
          continue;
        }
        model = applyOracleChanges(model, [c]);
        revision++;
        feed.onRecord(
          {
            revision,
            at: new Date(revision).toISOString(),
            changes: [],
          } as unknown as ChangeRecord,
          engine.hostDelta(delta),
        );
        for (const host of HOSTS) {
          const r = feed.nextMessage(host, seqs.get(host)!);
          if (r.kind === 'none') continue;
          if (r.kind === 'snapshot') throw new Error('unexpected snapshot');
          const msg = JSON.parse(r.json) as HostMessage;
          if (msg.type !== 'delta') throw new Error('not a delta');
          const next = applyHostDelta(states.get(host)!, msg);
          states.set(host, next);
          seqs.set(host, r.seq);
          expect(next, `seed ${seed} change ${i} host ${host}`).toEqual(feed.snapshot(host));
          if (next.sides.some((s) => s.routes)) steered++;
        }
      }
    }
    // The models do steer: the comparison covers route entries, not empty lists.
    expect(steered).toBeGreaterThan(100);
  });
});
