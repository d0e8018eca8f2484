/**
 * The verdict table (verdict-cases.ts) against the compiled engine: the same rows
 * and the same expectations as the reference run in verdict-table.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { oracleModelToDocuments } from '../support/oracle/oracle-model.js';
import { VnpError } from '../../src/model/errors.js';
import { ERROR_CASES, VERDICT_CASES } from './verdict-cases.js';
import { verdictMismatches } from './verdict-expect.js';

describe('verdict table × compiled engine', () => {
  it.each(VERDICT_CASES.map((c) => [`${c.section} ${c.name}`, c] as const))('%s', (_name, c) => {
    const engine = new Engine();
    engine.load(oracleModelToDocuments(c.model), 0);
    const result = engine.check(c.flow);
    expect(verdictMismatches(result, c), JSON.stringify(result, null, 2)).toEqual([]);
  });

  it.each(ERROR_CASES.map((c) => [c.name, c] as const))('error: %s', (_name, c) => {
    const engine = new Engine();
    engine.load(oracleModelToDocuments(c.model), 0);
    let caught: unknown;
    try {
      engine.check(c.flow);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(VnpError);
    expect((caught as VnpError).code).toBe(c.code);
    expect((caught as VnpError).details?.field).toBe(c.field);
  });
});
