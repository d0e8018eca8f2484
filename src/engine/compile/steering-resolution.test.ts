/**
 * Steering (design.md §1 `routes[]`): table-driven cases of route resolution and its
 * explanation in `check`, and a property: the route entries a PEP receives, looked up
 * in the documented order, give the steer class of the route `check` reports — on
 * fresh random models and after random incremental changes (then also equal to a
 * fresh compile).
 */
import { describe, expect, it } from 'vitest';
import type { HostState, SteeringEntries } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import { formatIp, parseIp, type Ip } from '../../model/net.js';
import type { Document, Protocol, SteeringRoute } from '../../model/types.js';
import { routePolicy, steerIface, STEERING_DOCS } from '../../../test/support/steering-docs.js';
import { makeRng, type Rng } from '../../../test/support/rng.js';
import { attachToHosts, HOSTS, rangeContains } from '../../../test/support/random-hosts.js';
import { randomChange, randomFlows, randomModel } from '../../../test/support/random-model.js';
import { oracleModelToDocuments } from '../../../test/support/oracle/oracle-model.js';
import { Engine } from '../engine.js';
import type { Change, CheckRequest } from '../types.js';

const policy = routePolicy;
// The shared model, and a via record attached nowhere.
const base: Document[] = [...STEERING_DOCS, steerIface('fw-loose', '10.0.0.12', 'fw')];

interface Case {
  name: string;
  policies: Document[];
  flow: CheckRequest;
  /** Expected route: [policy, route, via, active] or undefined. */
  want?: [string, string, string, boolean];
  overridden?: number;
  reason?: RegExp;
}

const toDb5432: SteeringRoute = {
  to: { selector: 'app == "db"' },
  ports: ['tcp/5432'],
  via: 'fw-a',
};

const cases: Case[] = [
  {
    name: 'a matching route steers',
    policies: [policy('p', 100, [toDb5432])],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
    want: ['p', 'routes[0]', 'fw-a', true],
  },
  {
    name: 'another port is not steered',
    policies: [policy('p', 100, [toDb5432])],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 80 },
  },
  {
    name: 'routes apply to the source only (the reverse flow is not steered)',
    policies: [policy('p', 100, [toDb5432])],
    flow: { src: 'db', dst: 'web', protocol: 'tcp', port: 5432 },
  },
  {
    name: 'higher priority wins',
    policies: [
      policy('p', 100, [toDb5432]),
      policy('q', 200, [{ to: { cidr: '10.0.0.0/24' }, via: 'fw-b' }]),
    ],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
    want: ['q', 'routes[0]', 'fw-b', true],
    overridden: 1,
  },
  {
    name: 'equal priority: the first policy name wins',
    policies: [policy('z', 100, [toDb5432]), policy('a', 100, [{ via: 'fw-b' }])],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
    want: ['a', 'routes[0]', 'fw-b', true],
    overridden: 1,
  },
  {
    name: 'equal priority, same policy: the first route wins',
    policies: [policy('p', 100, [{ ports: ['tcp'], via: 'fw-b' }, toDb5432])],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
    want: ['p', 'routes[0]', 'fw-b', true],
    overridden: 1,
  },
  {
    name: 'an outside address matched by cidr',
    policies: [
      policy('p', 100, [{ to: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }, via: 'fw-a' }]),
    ],
    flow: { src: 'web', dst: '192.0.2.7', protocol: 'udp', port: 53 },
    want: ['p', 'routes[0]', 'fw-a', true],
  },
  {
    name: 'icmp steered by a bare route',
    policies: [policy('p', 100, [{ via: 'fw-a' }])],
    flow: { src: 'web', dst: 'db', protocol: 'icmp' },
    want: ['p', 'routes[0]', 'fw-a', true],
  },
  {
    name: 'a via record not attached is inert',
    policies: [policy('p', 100, [{ via: 'fw-loose' }])],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 1 },
    want: ['p', 'routes[0]', 'fw-loose', false],
    reason: /not attached/,
  },
  {
    name: 'a via record without an address of the flow family is inert',
    policies: [policy('p', 100, [{ to: { cidr: '::/0' }, via: 'fw-a' }])],
    flow: { src: 'web', dst: '2001:db8::1', protocol: 'tcp', port: 443 },
    want: ['p', 'routes[0]', 'fw-a', false],
    reason: /"fw-a" has no IPv6 address/,
  },
  {
    name: 'the destination being the via record: inert',
    policies: [policy('p', 100, [{ via: 'fw-a' }])],
    flow: { src: 'web', dst: 'fw-a', protocol: 'tcp', port: 1 },
    want: ['p', 'routes[0]', 'fw-a', false],
    reason: /is the destination/,
  },
  {
    name: 'audit-mode policies never steer',
    policies: [policy('p', 100, [toDb5432], { mode: 'audit' })],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
  },
  {
    name: 'a denied flow is not steered',
    policies: [
      policy('p', 100, [toDb5432], {
        egress: [{ action: 'deny', to: { selector: 'app == "db"' } }],
      }),
    ],
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 },
  },
];

describe('route resolution (check)', () => {
  it.each(cases)('$name', (c) => {
    const e = new Engine();
    e.load([...base, ...c.policies], 0);
    const r = e.check(c.flow);
    if (!c.want) {
      expect(r.route).toBeUndefined();
      return;
    }
    expect(r.route).toBeDefined();
    const [pol, route, via, active] = c.want;
    expect([r.route!.policy, r.route!.route, r.route!.via, r.route!.active]).toEqual([
      pol,
      route,
      via,
      active,
    ]);
    expect(r.route!.overridden).toHaveLength(c.overridden ?? 0);
    if (active) expect(r.route!.steer).toBe(e.steering().find((s) => s.via === via)!.class);
    else expect(r.route!.steer).toBeUndefined();
    if (c.reason) expect(r.route!.reason).toMatch(c.reason);
  });

  it('steer classes are the sorted via names from 2, the same for any load order', () => {
    const pols = [policy('p', 1, [{ via: 'fw-b' }]), policy('q', 1, [{ via: 'fw-a' }])];
    const a = new Engine();
    a.load([...base, ...pols], 0);
    const b = new Engine();
    b.load([...pols.reverse(), ...base.slice().reverse()], 0);
    expect(a.steering()).toEqual([
      { class: 2, via: 'fw-a' },
      { class: 3, via: 'fw-b' },
    ]);
    expect(b.steering()).toEqual(a.steering());
  });

  it('a new via name renumbers and re-sends the route entries of the sources', () => {
    const e = new Engine();
    e.load([...base, policy('p', 1, [{ via: 'fw-b' }])], 0);
    const web = e.recordIdentity('web')!;
    const before = e.hostState('h1', 1).sides.find((s) => s.identity === web)!.routes!;
    expect(before.any[0]!.steer).toBe(2);
    const d = e.apply(
      [{ op: 'put', doc: policy('q', 5, [{ to: { cidr: '192.0.2.0/24' }, via: 'fw-a' }]) }],
      1,
    );
    expect(d.sides).toContainEqual({ identity: web, direction: 'egress' });
    const after = e.hostState('h1', 2);
    expect(after.steering).toEqual([
      { class: 2, via: 'fw-a' },
      { class: 3, via: 'fw-b' },
    ]);
    const routes = after.sides.find((s) => s.identity === web && s.direction === 'egress')!.routes!;
    expect(routes.any.every((x) => x.steer === 3)).toBe(true);
    expect(routes.cidr.some((x) => x.steer === 2)).toBe(true);
    // The destination's sides carry no routes; a host without sources still gets the table.
    expect(after.sides.filter((s) => s.routes).map((s) => s.identity)).toEqual([web]);
    expect(e.hostState('h2', 2).steering).toEqual(after.steering);
  });
});

// ---------------------------------------------------------------- property

/** The PEP's lookup: cidr, then peers, then any; the steer class or undefined. */
function pepRoute(
  routes: SteeringEntries | undefined,
  peer: number,
  addr: Ip,
  proto: Protocol,
  port: number,
): number | undefined {
  if (!routes) return undefined;
  const hit = (e: { proto: Protocol; ports: readonly [number, number] }) =>
    e.proto === proto && e.ports[0] <= port && port <= e.ports[1];
  return (
    routes.cidr.find((e) => hit(e) && rangeContains(e.range, addr))?.steer ??
    routes.peers.find((e) => e.peer === peer && hit(e))?.steer ??
    routes.any.find(hit)?.steer
  );
}

/** Random routes on every policy: peers borrowed from its rules, vias from the records. */
function withRoutes(rng: Rng, doc: Document, vias: string[]): Document {
  if (doc.kind !== 'Policy') return doc;
  const rules = [...doc.egress.map((r) => r.to), ...doc.ingress.map((r) => r.from)];
  const ports = [...doc.egress, ...doc.ingress].map((r) => r.ports);
  const routes: SteeringRoute[] = [];
  for (let i = rng.int(0, 2); i > 0; i--) {
    const to = rng.chance(0.7) && rules.length ? rng.pick(rules) : undefined;
    const p = rng.chance(0.6) && ports.length ? rng.pick(ports) : undefined;
    routes.push({ ...(to ? { to } : {}), ...(p ? { ports: p } : {}), via: rng.pick(vias) });
  }
  return { ...doc, routes };
}

function attach(docs: Document[], rng: Rng): Document[] {
  const vias = docs.filter((doc) => doc.kind === 'Interface').map((doc) => doc.name);
  return attachToHosts(docs, rng, (doc) => withRoutes(rng, doc, vias));
}

function compareRoutes(engine: Engine, flows: CheckRequest[], seed: number, rev: number): number {
  const states = new Map(HOSTS.map((h) => [h, engine.hostState(h, rev)]));
  const classes = new Map(engine.steering().map((s) => [s.via, s.class]));
  const locals = [...states.values()].flatMap((s) => s.locals.map((l) => ({ l, s })));
  let n = 0;
  for (const f of flows) {
    let r;
    try {
      r = engine.check(f);
    } catch {
      continue;
    }
    if (r.verdict !== 'allow' || !r.src.record || r.src.record === r.dst.record) continue;
    const src = locals.find((x) => x.l.name === r.src.record);
    if (!src) continue;
    const dst = parseIp(r.dst.address!)!;
    const side = src.s.sides.find((x) => x.identity === src.l.identity && x.direction === 'egress');
    const proto = f.protocol ?? 'tcp';
    const got = pepRoute(
      side?.routes,
      r.dst.identity ?? IDENTITY_WORLD,
      dst,
      proto,
      proto === 'icmp' ? 0 : f.port!,
    );
    const want = r.route ? (classes.get(r.route.via) ?? 0) : undefined;
    if (got !== want)
      expect.fail(
        `seed ${seed}: PEP steers ${got}, check says ${want} for ${JSON.stringify(f)} ${formatIp(dst)}\n${JSON.stringify(r.route)}`,
      );
    n++;
  }
  return n;
}

describe('route entries agree with check (simulated PEP)', () => {
  it('on fresh random models', () => {
    let compared = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const rng = makeRng(seed);
      const model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine();
      engine.load(attach(oracleModelToDocuments(model), rng), 0);
      compared += compareRoutes(engine, randomFlows(rng, model, 40), seed, 1);
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('after random incremental changes, equal to a fresh compile', () => {
    let compared = 0;
    for (let seed = 2000; seed < 2040; seed++) {
      const rng = makeRng(seed);
      let model = randomModel(rng, { records: 8, policies: 6 });
      const engine = new Engine({ identityGraceMs: 0 });
      engine.load(attach(oracleModelToDocuments(model), rng), 0);
      const vias = model.interfaces.map((i) => i.name);
      for (let step = 1; step <= 8; step++) {
        const next = randomChange(rng, model);
        let change: Change = next.change;
        if (change.op === 'put' && change.doc.kind === 'Interface')
          change = { op: 'put', doc: { ...change.doc, instance: `i${rng.int(0, 2)}` } };
        if (change.op === 'put' && change.doc.kind === 'Policy')
          change = { op: 'put', doc: withRoutes(rng, change.doc, vias) };
        try {
          engine.apply([change], step);
        } catch {
          continue;
        }
        model = next.model;
        const flows = randomFlows(rng, model, 20);
        compared += compareRoutes(engine, flows, seed, step);
        const fresh = new Engine();
        fresh.load(engine.allDocuments(), step);
        for (const f of flows) {
          let want;
          try {
            want = fresh.check(f).route;
          } catch {
            continue;
          }
          expect(engine.check(f).route, `seed ${seed} step ${step} ${JSON.stringify(f)}`).toEqual(
            want,
          );
        }
        const routesOf = (s: HostState) =>
          s.sides
            .filter((x) => x.routes)
            .map((x) => ({
              id: s.locals.find((l) => l.identity === x.identity)!.name,
              r: x.routes,
            }))
            .sort((a, b) => (a.id < b.id ? -1 : 1));
        for (const h of HOSTS) {
          // Identities differ between the engines; compare by record name and class.
          const a = routesOf(engine.hostState(h, step));
          const b = routesOf(fresh.hostState(h, step));
          expect(
            a.map((x) => x.id),
            `seed ${seed} step ${step}`,
          ).toEqual(b.map((x) => x.id));
          expect(engine.steering()).toEqual(fresh.steering());
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
  });
});
