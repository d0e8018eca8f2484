/**
 * No import loop in src/ (issue 17; docs/adr/0026-engine-facets.md): every file's
 * static imports, type-only ones included, form a graph without cycles. A loop means two
 * modules that cannot be read, tested or moved one without the other.
 */
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, sourceFiles } from './import-graph.js';

describe('src/ import graph', () => {
  it('has no cycles', () => {
    const files = sourceFiles('.');
    expect(files.length).toBeGreaterThan(100);
    const graph = importGraph('.', files);
    // The scan reads real imports: the engine façade imports its facets.
    expect(graph.get('src/engine/engine.ts')).toContain('src/engine/state/engine-state.ts');
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['d.ts']],
      ['e.ts', ['a.ts']],
    ]);
    expect(importCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });
});
