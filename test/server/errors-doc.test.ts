import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/model/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  // Table rows: | `CODE` | status | meaning | (column padding is prettier's business).
  const rows = new Map(
    [...doc.matchAll(/^\|\s*`(VNP_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );

  it.each(Object.entries(ERROR_CODES))('documents %s with its status', (code, { status }) => {
    expect(rows.has(code), `${code} missing from docs/errors.md`).toBe(true);
    expect(rows.get(code)).toBe(status);
  });

  it('lists no code that is not registered', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
