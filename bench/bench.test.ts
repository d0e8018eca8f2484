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

/** Cedar and Casbin cost a millisecond or more per flow: they judge the first flows only. */
const SLOW_JUDGE_FLOWS = 40;

async function judgesOf(
  policies: number,
  records: number,
  seed: number,
): Promise<{
  judges: { judge: FlowJudge; flows: number }[];
  model: ReturnType<typeof generateModel>;
}> {
  const model = generateModel({ policies, records, flows: 120, seed });
  const all = model.flows.length;
  const judges = [
    ...loadVnp(model.documents).judges.map((judge) => ({ judge, flows: all })),
    { judge: new ReferenceJudge(model.documents), flows: all },
    { judge: new SeedJudge(model.documents), flows: all },
    { judge: new CedarJudge(model.documents), flows: SLOW_JUDGE_FLOWS },
    { judge: await CasbinJudge.create(model.documents), flows: SLOW_JUDGE_FLOWS },
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
        for (const { judge, flows } of judges) {
          if (i >= flows) continue;
          const got = judge.allows(flow);
          if (got !== model.expected[i]) {
            disagreements.push(
              `${judge.name} ${JSON.stringify(flow)}: expected ${model.expected[i]}, got ${got}`,
            );
          }
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
