/**
 * Metamorphic properties of §2 checked on the §2 oracle over random
 * models: they do not depend on the reference's own reading of the text, so they
 * catch mistakes the differential test (which trusts the reference) cannot.
 */
import { describe, expect, it } from 'vitest';
import { oracleCheck } from '../support/oracle/oracle-evaluator.js';
import type { OracleModel } from '../support/oracle/oracle-model.js';
import type { CheckRequest, CheckResult } from '../../src/engine/index.js';
import { randomFlows, randomModel } from '../support/random-model.js';
import { makeRng } from '../support/rng.js';

const SEEDS = 80;

function forRandomFlows(
  body: (model: OracleModel, result: CheckResult, seed: number, req: CheckRequest) => void,
): void {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const rng = makeRng(seed * 7919);
    const model = randomModel(rng, { records: rng.int(1, 10), policies: rng.int(0, 8) });
    for (const flow of randomFlows(rng, model, 25))
      body(model, oracleCheck(model, flow), seed, flow);
  }
}

const decider = (r: CheckResult): string =>
  [r.egress, r.ingress]
    .map((s) => `${s.verdict}:${s.rule ? `${s.rule.policy}/${s.rule.rule}` : 'default'}`)
    .join(' ');

describe('§2 properties (§2 oracle)', () => {
  it('§2.4 the flow is allowed iff both sides allow', () => {
    forRandomFlows((_m, r) => {
      expect(r.verdict).toBe(
        r.egress.verdict === 'allow' && r.ingress.verdict === 'allow' ? 'allow' : 'deny',
      );
    });
  });

  it('§2.4 removing every audit policy changes no verdict and no decider', () => {
    forRandomFlows((m, r, seed, req) => {
      const enforced = { ...m, policies: m.policies.filter((p) => p.mode === 'enforce') };
      const again = oracleCheck(enforced, req);
      expect(decider(again), `seed ${seed}`).toBe(decider(r));
    });
  });

  it('§2.2 the default is the same on both sides of a flow', () => {
    forRandomFlows((_m, r) => {
      if (r.egress.default && r.ingress.default && r.egress.evaluated && r.ingress.evaluated) {
        expect(r.egress.default.verdict).toBe(r.ingress.default.verdict);
      }
    });
  });

  it('§2.1 the decider is never weaker than a loser', () => {
    const rank = { deny: 0, log: 1, allow: 2 } as const;
    forRandomFlows((_m, r) => {
      for (const side of [r.egress, r.ingress]) {
        for (const loser of side.overridden) {
          const d = side.rule!;
          expect(
            d.priority > loser.priority ||
              (d.priority === loser.priority && rank[d.action] <= rank[loser.action]),
          ).toBe(true);
        }
      }
    });
  });

  it('§2.3 a side is unevaluated exactly when its endpoint is outside every record', () => {
    forRandomFlows((_m, r) => {
      const self = r.src.record !== undefined && r.src.record === r.dst.record;
      if (self) return;
      expect(r.egress.evaluated).toBe(r.src.record !== undefined);
      expect(r.ingress.evaluated).toBe(r.dst.record !== undefined);
    });
  });

  it('§2.1 a 65535 deny-all policy on every record denies every flow between two different records', () => {
    forRandomFlows((m, r, seed, req) => {
      if (!r.src.record || !r.dst.record || r.src.record === r.dst.record) return;
      const locked: OracleModel = {
        ...m,
        policies: [
          ...m.policies,
          {
            name: 'zz-lock',
            priority: 65535,
            appliesTo: 'all()',
            ingress: [],
            egress: [{ action: 'deny' }],
            routes: [],
            mode: 'enforce',
          },
        ],
      };
      const again = oracleCheck(locked, req);
      expect(again.verdict, `seed ${seed}`).toBe('deny');
      // Another 65535 deny may win the tie by name; either way a 65535 deny decides.
      expect(again.egress.rule).toMatchObject({ priority: 65535, action: 'deny' });
    });
  });

  it('removing a policy that no side mentions changes nothing', () => {
    forRandomFlows((m, r, seed, req) => {
      const mentioned = new Set(
        [r.egress, r.ingress].flatMap((s) =>
          [s.rule, ...s.overridden, ...(s.audit?.rules ?? [])].map((x) => x?.policy),
        ),
      );
      const unused = m.policies.find((p) => !mentioned.has(p.name));
      if (!unused) return;
      const again = oracleCheck({ ...m, policies: m.policies.filter((p) => p !== unused) }, req);
      expect(again, `seed ${seed}`).toEqual(r);
    });
  });
});
