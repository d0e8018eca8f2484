/**
 * The verdict table (verdict-cases.ts) against the §2 oracle, plus the
 * reference's own explanation details (overridden order, reasons, endpoints).
 */
import { describe, expect, it } from 'vitest';
import { oracleCheck } from '../support/oracle/oracle-evaluator.js';
import { VnpError } from '../../src/model/errors.js';
import { ERROR_CASES, REFERENCE_ONLY_ERROR_CASES, VERDICT_CASES } from './verdict-cases.js';
import { verdictMismatches } from './verdict-expect.js';

describe('verdict table × §2 oracle', () => {
  it.each(VERDICT_CASES.map((c) => [`${c.section} ${c.name}`, c] as const))('%s', (_name, c) => {
    const result = oracleCheck(c.model, c.flow);
    expect(verdictMismatches(result, c), JSON.stringify(result, null, 2)).toEqual([]);
    expect(result.reason.length).toBeGreaterThan(0);
    for (const side of [result.egress, result.ingress]) {
      if (!side.rule) expect(side.default?.reason.length ?? 0).toBeGreaterThan(0);
    }
  });

  it.each([...ERROR_CASES, ...REFERENCE_ONLY_ERROR_CASES].map((c) => [c.name, c] as const))(
    'error: %s',
    (_name, c) => {
      let caught: unknown;
      try {
        oracleCheck(c.model, c.flow);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(VnpError);
      expect((caught as VnpError).code).toBe(c.code);
      expect((caught as VnpError).details?.field).toBe(c.field);
    },
  );

  it('has a row for every sentence of §2', () => {
    const sections = new Set(VERDICT_CASES.map((c) => c.section));
    for (const s of ['§2.1', '§2.2', '§2.3', '§2.4']) expect(sections).toContain(s);
    expect(VERDICT_CASES.length).toBeGreaterThanOrEqual(50);
  });
});
