/**
 * Steering through the agent protocol: route entries (in egress sides) and the
 * steer-class table reach every host by deltas; snapshot(R) folded with the rendered
 * deltas equals snapshot(R′) while routes come, change, renumber and go — step by
 * step and coalesced.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { Change } from '../../src/engine/types.js';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import type { HostState } from '../../src/model/host-state.js';
import type { Document, Route } from '../../src/model/types.js';
import { HostFeed } from '../../src/server/distribution/host-feed.js';
import type { ChangeRecord } from '../../src/store/types.js';

const HOSTS = ['h1', 'h2', 'h3'];
const iface = (name: string, ip: string, app: string, instance: string): Document => ({
  kind: 'Interface',
  name,
  subnet: 'net',
  ips: [ip],
  tags: { app },
  instance,
});
const policy = (name: string, priority: number, routes: Route[]): Document => ({
  kind: 'Policy',
  name,
  priority,
  appliesTo: 'app == "web"',
  ingress: [],
  egress: [],
  routes,
  mode: 'enforce',
});

const docs: Document[] = [
  { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/24' },
  ...HOSTS.map((h, i): Document => ({ kind: 'Instance', name: `i${i + 1}`, host: h })),
  iface('web', '10.0.0.1', 'web', 'i1'),
  iface('db', '10.0.0.3', 'db', 'i3'),
  iface('fw-a', '10.0.0.10', 'fw', 'i2'),
  iface('fw-b', '10.0.0.11', 'fw', 'i2'),
];

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
  feed.reset(1);
  const states = new Map(HOSTS.map((h) => [h, feed.snapshot(h)]));
  const seqs = new Map(HOSTS.map((h) => [h, feed.head]));
  let revision = 1;
  const follow = () => {
    for (const host of HOSTS) {
      const r = feed.render(host, seqs.get(host)!);
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
      delta,
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
