/** The differential comparison must catch each kind of disagreement it claims to. */
import { describe, expect, it } from 'vitest';
import { oracleCheck } from '../support/oracle/oracle-evaluator.js';
import type { CheckResult } from '../../src/engine/index.js';
import { compareResults } from './compare-results.js';
import { VERDICT_CASES } from './verdict-cases.js';

const byName = (fragment: string): CheckResult => {
  const c = VERDICT_CASES.find((x) => x.name.includes(fragment));
  if (!c) throw new Error(`no case ${fragment}`);
  return oracleCheck(c.model, c.flow);
};

describe('compareResults', () => {
  it('agrees with itself on every table row', () => {
    for (const c of VERDICT_CASES) {
      const r = oracleCheck(c.model, c.flow);
      expect(compareResults(r, structuredClone(r))).toEqual([]);
    }
  });

  it('flags a different flow verdict, side verdict, logged flag, decider, default, evaluated, losers and audit', () => {
    const logged = byName('log beats allow');
    const mutants: [string, (r: CheckResult) => void][] = [
      ['verdict', (r) => (r.verdict = 'deny')],
      ['egress: verdict', (r) => (r.egress.verdict = 'deny')],
      ['egress: logged', (r) => delete r.egress.logged],
      ['egress: decided by', (r) => (r.egress.rule = { ...r.egress.rule!, rule: 'egress[1]' })],
      ['ingress: evaluated', (r) => (r.ingress.evaluated = false)],
      ['ingress: default', (r) => (r.ingress.default = { verdict: 'deny', reason: 'x' })],
      ['ingress: decided by', (r) => (r.ingress.rule = { ...logged.egress.rule! })],
      ['egress: overridden', (r) => (r.egress.overridden = [])],
      ['src: reference', (r) => (r.src.partitions = ['nope'])],
      ['dst: reference', (r) => (r.dst.address = '10.9.9.9')],
      [
        'egress: audit',
        (r) => (r.egress.audit = { rules: [logged.egress.rule!], wouldBe: 'allow' }),
      ],
    ];
    for (const [what, mutate] of mutants) {
      const copy = structuredClone(logged);
      mutate(copy);
      expect(compareResults(logged, copy).join('\n')).toContain(what);
    }
  });

  it('ignores evaluated for self traffic, but not the verdict', () => {
    const self = byName('talking to itself is allowed');
    const copy = structuredClone(self);
    copy.egress.evaluated = false;
    expect(compareResults(self, copy)).toEqual([]);
    copy.egress.verdict = 'deny';
    expect(compareResults(self, copy)).not.toEqual([]);
  });
});
