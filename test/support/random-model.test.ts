/**
 * The generators produce valid, consistent models (so engine failures are engine
 * bugs, not generator noise), reproduce from a seed, and reach the cases §2 cares about.
 */
import { describe, expect, it } from 'vitest';
import { oracleCheck } from './oracle/oracle-evaluator.js';
import type { OracleModel } from './oracle/oracle-model.js';
import { oracleModelToDocuments } from './oracle/oracle-model.js';
import { validateDocument, validateInterfaceAddresses } from '../../src/validate/validate.js';
import { VERDICT_CASES } from '../semantics/verdict-cases.js';
import { randomChange, randomFlows, randomModel } from './random-model.js';
import { makeRng } from './rng.js';

function expectValid(model: OracleModel, seed: number): void {
  for (const doc of oracleModelToDocuments(model)) {
    expect(() => validateDocument(doc), `seed ${seed}: ${JSON.stringify(doc)}`).not.toThrow();
  }
  const addresses = model.interfaces.flatMap((r) => r.ips);
  expect(new Set(addresses).size, `seed ${seed}: addresses unique`).toBe(addresses.length);
  for (const r of model.interfaces) {
    const subnet = model.subnets.find((s) => s.name === r.subnet);
    expect(subnet, `seed ${seed}: subnet of ${r.name}`).toBeDefined();
    validateInterfaceAddresses(r, subnet!);
  }
  const partitions = new Set(model.partitions.map((p) => p.name));
  for (const p of model.policies) {
    for (const peer of [...p.ingress.map((r) => r.from), ...p.egress.map((r) => r.to)]) {
      if (peer?.partition)
        expect(partitions, `seed ${seed}: policy ${p.name}`).toContain(peer.partition);
    }
  }
}

describe('random model generators', () => {
  it('produce valid models, before and after random changes', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = makeRng(seed);
      let model = randomModel(rng, { records: 12, policies: 8 });
      expectValid(model, seed);
      for (let i = 0; i < 10; i++) {
        const next = randomChange(rng, model);
        if (next.change.op === 'put')
          expect(() => validateDocument(next.change.op === 'put' && next.change.doc)).not.toThrow();
        model = next.model;
        expectValid(model, seed);
      }
    }
  });

  it('reproduce from the seed', () => {
    const a = randomModel(makeRng(99));
    const b = randomModel(makeRng(99));
    expect(a).toEqual(b);
    expect(randomFlows(makeRng(5), a, 20)).toEqual(randomFlows(makeRng(5), b, 20));
  });

  it('reach ties, logs, audit, outside sides, self traffic and every default', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const rng = makeRng(seed);
      const model = randomModel(rng);
      for (const flow of randomFlows(rng, model, 30)) {
        const r = oracleCheck(model, flow);
        seen.add(r.verdict);
        for (const side of [r.egress, r.ingress]) {
          if (!side.evaluated) seen.add('outside');
          if (side.logged) seen.add('logged');
          if (side.audit) seen.add('audit');
          if (side.overridden.some((o) => o.priority === side.rule?.priority)) seen.add('tie');
          if (side.default?.reason.includes('intra deny')) seen.add('intra deny');
          if (side.default?.reason.includes('intra allow')) seen.add('intra allow');
          if (side.default?.reason.includes('unpartitioned')) seen.add('unpartitioned');
          if (side.default?.reason.includes('crossPartition')) seen.add('crossPartition');
          if (side.default?.reason === 'same record') seen.add('self');
        }
      }
    }
    const all = [
      'allow',
      'deny',
      'outside',
      'logged',
      'audit',
      'tie',
      'intra deny',
      'intra allow',
      'unpartitioned',
      'crossPartition',
      'self',
    ];
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('the verdict table models are valid documents', () => {
    for (const c of VERDICT_CASES) expectValid(c.model, 0);
  });

  it('big models use the big subnets with unique addresses, and stay valid under changes', () => {
    const rng = makeRng(3);
    let model = randomModel(rng, { records: 2000, policies: 20 });
    expect(model.subnets.map((s) => s.name)).toContain('net-big4');
    expectValid(model, 3);
    for (let i = 0; i < 30; i++) model = randomChange(rng, model).model;
    expectValid(model, 3);
  });

  it('small models never hang when their subnets fill up', () => {
    const rng = makeRng(11);
    let model = randomModel(rng, { records: 30 });
    for (let i = 0; i < 400; i++) model = randomChange(rng, model).model;
    expectValid(model, 11);
  });
});
