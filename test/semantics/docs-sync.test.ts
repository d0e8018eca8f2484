/** docs/semantics.md quotes verdict-table rows in italics (`_…_`): each quote must name a real row. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateDocument } from '../../src/validate/validate.js';
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

  it('every YAML example is a valid document', () => {
    const md = readFileSync(new URL('../../docs/semantics.md', import.meta.url), 'utf8');
    const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      for (const doc of parseAllDocuments(block)) {
        expect(doc.errors).toEqual([]);
        expect(() => validateDocument(doc.toJS())).not.toThrow();
      }
    }
  });
});
