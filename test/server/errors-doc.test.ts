import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/model/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  it.each(Object.entries(ERROR_CODES))('documents %s with its status', (code, { status }) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `${code} missing from docs/errors.md`).toBeDefined();
    expect(row).toContain(`| ${status} |`);
  });
  it('lists no code that is not registered', () => {
    const listed = [...doc.matchAll(/^\| `(VNP_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
