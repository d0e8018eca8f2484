/**
 * The CLI's start-up stays cheap (docs/adr/0010-compiled-cli.md): walking the
 * static (non-type) imports from the entry point and from the program definition
 * must reach only the modules every run needs. Anything else — the client, YAML,
 * formatters, the server, the store — is loaded by `await import()` inside the
 * action that uses it. A new eager import of a heavy module fails here, naming
 * the chain that reached it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..', '..');

/** Static value imports and re-exports of a TypeScript file (type-only ones skipped). */
function staticImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) if (m[1] === undefined) out.push(m[2]!);
  return out;
}

/** Every module reachable from `entry` by static imports, with the chain that first reached it. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (!file.startsWith('src/')) continue;
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const spec of staticImports(text)) {
      const target = spec.startsWith('.')
        ? relative(REPO, resolve(REPO, dirname(file), spec)).replace(/\.js$/, '.ts')
        : spec;
      if (!seen.has(target)) {
        seen.set(target, [...seen.get(file)!, target]);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** What defining the program may load: commander, node built-ins and these modules. */
const PROGRAM_MODULES = new Set([
  'commander',
  'src/cli/program.ts',
  'src/cli/run-program.ts',
  'src/cli/context.ts',
  'src/cli/version.ts',
  'src/model/version.ts',
  'src/cli/arguments.ts',
  'src/cli/kinds.ts',
  'src/cli/output.ts',
  'src/cli/yaml.ts',
  'src/model/errors.ts',
  'src/model/types.ts',
  'src/model/ports.ts',
  'src/client/api-types.ts',
]);

function unexpected(entry: string, allowed: (m: string) => boolean): string[] {
  return [...reachable(entry)]
    .filter(([m]) => !m.startsWith('node:') && !allowed(m))
    .map(([, chain]) => chain.join(' → '));
}

describe('CLI start-up imports', () => {
  it('finds static imports and skips type-only ones', () => {
    const src = [
      "import type { A } from './a.js';",
      "import { b } from './b.js';",
      "import {\n  c,\n  type D,\n} from './c.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
    ].join('\n');
    expect(staticImports(src)).toEqual(['./b.js', './c.js', './e.js', './g.js']);
  });

  it('`vnp --version` loads the entry, the version and the command table only', () => {
    const allowed = new Set([
      'src/cli/main.ts',
      'src/cli/version.ts',
      'src/model/version.ts',
      'src/cli/command-table.ts',
    ]);
    expect(unexpected('src/cli/main.ts', (m) => allowed.has(m))).toEqual([]);
  });

  it('defining the program loads commander and the command definitions only', () => {
    const extra = unexpected(
      'src/cli/program.ts',
      (m) => PROGRAM_MODULES.has(m) || /^src\/cli\/commands\/[a-z-]+\.ts$/.test(m),
    );
    expect(extra).toEqual([]);
  });

  it('the command table is data: it imports nothing', () => {
    expect([...reachable('src/cli/command-table.ts').keys()]).toEqual(['src/cli/command-table.ts']);
  });

  it('the walk sees what an eager import would pull in', () => {
    // Guard against a walk that finds nothing: the client's own imports are reachable from it.
    expect([...reachable('src/client/client.ts').keys()]).toContain('src/client/errors.ts');
  });
});
