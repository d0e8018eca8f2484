/**
 * Smoke test of the benchmark's judges: on small generated models every baseline
 * (and the engine, once it exists) gives the same verdict on every flow, and the
 * generator's own expectation agrees. A disagreement here would make the benchmark's
 * ratios meaningless, so it fails `npm test` rather than only the bench run.
 */
import { describe, expect, it } from 'vitest';
import { CasbinJudge } from './baselines/casbin.js';
import { CedarJudge } from './baselines/cedar.js';
import type { FlowJudge } from './baselines/judge.js';
import { ReferenceJudge } from './baselines/reference.js';
import { SeedJudge } from './baselines/seed.js';
import { generateModel } from './generate.js';
import { loadVnp } from './vnp.js';

async function judgesOf(
  policies: number,
  records: number,
  seed: number,
): Promise<{
  judges: FlowJudge[];
  model: ReturnType<typeof generateModel>;
}> {
  const model = generateModel({ policies, records, flows: 120, seed });
  const judges: FlowJudge[] = [
    ...loadVnp(model.documents).judges,
    new ReferenceJudge(model.documents),
    new SeedJudge(model.documents),
    new CedarJudge(model.documents),
    await CasbinJudge.create(model.documents),
  ];
  return { judges, model };
}

describe('bench judges', () => {
  it('generates the same model for the same seed, and another for another seed', () => {
    const a = generateModel({ policies: 10, records: 40, flows: 50, seed: 7 });
    const b = generateModel({ policies: 10, records: 40, flows: 50, seed: 7 });
    const c = generateModel({ policies: 10, records: 40, flows: 50, seed: 8 });
    expect(a).toEqual(b);
    expect(a.flows).not.toEqual(c.flows);
  });

  it('produces both verdicts, with misses', () => {
    const m = generateModel({ policies: 20, records: 100, flows: 400 });
    const allowed = m.expected.filter(Boolean).length;
    expect(allowed).toBeGreaterThan(200);
    expect(allowed).toBeLessThan(400);
  });

  for (const [policies, records, seed] of [
    [10, 60, 1],
    [37, 80, 2],
  ] as const) {
    it(`all judges agree on every flow (${policies} policies, ${records} records)`, async () => {
      const { judges, model } = await judgesOf(policies, records, seed);
      const disagreements: string[] = [];
      model.flows.forEach((flow, i) => {
        const verdicts = judges.map((j) => j.allows(flow));
        if (verdicts.some((v) => v !== model.expected[i])) {
          disagreements.push(
            `${JSON.stringify(flow)}: expected ${model.expected[i]}, got ${verdicts.join(',')}`,
          );
        }
      });
      expect(disagreements).toEqual([]);
    });
  }

  it('refuses models whose defaults Cedar and Casbin cannot express', async () => {
    const m = generateModel({ policies: 10, records: 20, flows: 10 });
    const docs = m.documents.map((d) =>
      d.kind === 'Settings'
        ? { ...d, defaults: { unpartitioned: 'allow' as const, crossPartition: 'deny' as const } }
        : d,
    );
    expect(() => new CedarJudge(docs)).toThrow(/unpartitioned/);
    await expect(CasbinJudge.create(docs)).rejects.toThrow(/unpartitioned/);
  });
});
