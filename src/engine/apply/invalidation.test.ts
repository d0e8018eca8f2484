/**
 * A peer's membership change drops its table only in the sides whose rules name the
 * selector (or partition) it changed in: the other direction of the same policy is
 * neither dropped nor listed, and verdicts both ways stay exact (issue #11,
 * docs/adr/0069).
 */
import { describe, expect, it } from 'vitest';
import type { Document } from '../../model/types.js';
import { Engine } from '../engine.js';

type Iface = Extract<Document, { kind: 'Interface' }>;

/** a1 (r0) allows ingress from `env == "dev"` on 80 and egress to `app == "a2"` on 443. */
function model() {
  const tagsOf = ['a1/prod', 'a2/prod', 'a3/dev', 'a4/prod'];
  const records = tagsOf.map((t, i): Iface => {
    const [app, env] = t.split('/') as [string, string];
    const name = `r${i}`;
    return {
      kind: 'Interface',
      name,
      subnet: 'net',
      instance: `vm${i % 2}`,
      ips: [`10.0.0.${i + 1}`],
      tags: { app, env },
    };
  });
  const policy: Document = {
    kind: 'Policy',
    name: 'p',
    priority: 100,
    appliesTo: 'app == "a1"',
    mode: 'enforce',
    routes: [],
    egress: [{ action: 'allow', to: { selector: 'app == "a2"' }, ports: ['tcp/443'] }],
    ingress: [{ action: 'allow', from: { selector: 'env == "dev"' }, ports: ['tcp/80'] }],
  };
  const docs: Document[] = [
    { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/16' },
    { kind: 'Instance', name: 'vm0', host: 'h0' },
    { kind: 'Instance', name: 'vm1', host: 'h1' },
    ...records,
    policy,
  ];
  const engine = new Engine();
  engine.load(docs, 0);
  engine.hostDelta();
  const a1 = engine.recordIdentity('r0')!;
  /** Retag record i; which of a1's sides the delta names. */
  const retag = (i: number, tags: Record<string, string>, now: number): string[] => {
    const delta = engine.apply([{ op: 'put', doc: { ...records[i]!, tags } }], now);
    engine.hostDelta(delta);
    return delta.sides
      .filter((s) => s.identity === a1)
      .map((s) => s.direction)
      .sort();
  };
  return { engine, retag };
}

/** Every check between the records on both rule ports, as this engine and a fork built afresh judge it. */
function judged(engine: Engine): [string, string] {
  const fork = engine.fork();
  const all = (e: Engine): string =>
    JSON.stringify(
      [0, 1, 2, 3].flatMap((i) =>
        [0, 1, 2, 3].flatMap((j) =>
          [80, 443].map((port) => e.check({ src: `r${i}`, dst: `r${j}`, protocol: 'tcp', port })),
        ),
      ),
    );
  return [all(engine), all(fork)];
}

describe('peer membership invalidation', () => {
  it('lists only the direction whose rules name the changed selector; verdicts stay exact', () => {
    const { engine, retag } = model();
    // r3 joins env == "dev" (ingress peer) as a new identity: only a1's ingress changes.
    expect(retag(3, { app: 'a4', env: 'dev' }, 1)).toEqual(['ingress']);
    expect(engine.check({ src: 'r3', dst: 'r0', protocol: 'tcp', port: 80 }).ingress).toMatchObject(
      { verdict: 'allow' },
    );
    let [now, fresh] = judged(engine);
    expect(now).toBe(fresh);
    // Then it joins app == "a2" (egress peer) too: the egress side changes.
    expect(retag(3, { app: 'a2', env: 'dev' }, 2)).toContain('egress');
    expect(engine.check({ src: 'r0', dst: 'r3', protocol: 'tcp', port: 443 }).egress).toMatchObject(
      { verdict: 'allow' },
    );
    [now, fresh] = judged(engine);
    expect(now).toBe(fresh);
    // And goes back to its first identity (kept through its grace period, in neither).
    retag(3, { app: 'a4', env: 'prod' }, 3);
    [now, fresh] = judged(engine);
    expect(now).toBe(fresh);
    const a1 = engine.recordIdentity('r0')!;
    expect(JSON.stringify(engine.fork().identityRules(a1))).toBe(
      JSON.stringify(engine.identityRules(a1)),
    );
  });
});
