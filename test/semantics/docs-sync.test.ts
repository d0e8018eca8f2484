/** docs/semantics.md quotes verdict-table rows in italics (`_…_`): each quote must name a real row. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERDICT_CASES } from './verdict-cases.js';

describe('docs/semantics.md', () => {
  it('every italic example names a row of the verdict table', () => {
    const text = readFileSync(new URL('../../docs/semantics.md', import.meta.url), 'utf8')
      .replace(/`[^`]*`/g, '')
      .replace(/\s*\n\s*/g, ' ');
    // Prettier writes emphasis as _text_; code spans (error codes) are removed above.
    const quotes = [...text.matchAll(/(?<![\w_])_([^_]+)_(?![\w_])/g)].map((m) => m[1]!);
    expect(quotes.length).toBeGreaterThan(30);
    const names = VERDICT_CASES.map((c) => c.name);
    const unknown = quotes.filter((q) => {
      const parts = q
        .split('…')
        .map((p) => p.trim())
        .filter((p) => p.length > 0);
      return !names.some((n) => parts.every((p) => n.includes(p)));
    });
    expect(unknown).toEqual([]);
  });
});
