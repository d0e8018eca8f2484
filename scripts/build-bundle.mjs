// Part of `npm run build` (after tsc): bundle the CLI, the manager and the agent into
// dist/bundle/ (docs/adr/0047-bundled-start.md). Node resolves, reads and compiles
// every ES module and CommonJS file separately — hundreds for the manager (Fastify
// and its plugins, TypeBox's many modules) — which cost a restart more CPU than
// anything vnp does with the data. One module per lazily imported part keeps `vnp
// --version` and `vnp get` from loading the manager.
//
// Each light command of src/cli/command-table.ts also gets one file of its own in
// dist/bundle/command/ (no splitting: its definition, its implementation, commander
// and the client together), which src/cli/main.ts runs when a run names that
// command: one module to read instead of twenty-odd chunks (docs/adr/0073). The
// entry (main.js) is a file of its own too, reading no shared chunk.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = resolve(ROOT, 'dist') + '/';
const OUT = resolve(ROOT, 'dist/bundle');

/**
 * `import.meta.url` keeps meaning "this source module" (the data files and the
 * `createRequire` resolution next to it): inside a chunk of dist/bundle/ it becomes
 * the original module's URL, computed from the chunk's own location, so the build
 * can be moved as a whole.
 */
const originalImportMetaUrl = (outDir) => ({
  name: 'original-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(DIST)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outDir, args.path).split('\\').join('/');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
        ),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
});

// No chunk of an earlier build lingers (their names carry content hashes).
await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // PGlite finds its WebAssembly and data files next to its own module; pg has an
  // optional native binding. Both load only when chosen (src/store/open-store.ts).
  // Fastify's two schema compilers (Ajv, fast-json-stringify, ajv-formats: a third of
  // the manager's chunk) are required by Fastify only when no compilers are given, and
  // the manager gives its own (src/server/lazy-schema-compilers.ts, which loads Ajv from
  // node_modules on the first request that validates): bundled, they were parsed at every
  // start and never run (docs/adr/0072-schema-compilers-not-bundled.md).
  external: [
    '@electric-sql/pglite',
    'pg',
    'pg-copy-streams',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
  ],
  // CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __vnpCreateRequire } from 'node:module'; const require = __vnpCreateRequire(import.meta.url);",
  },
};
// The whole program (and through it the manager and the agent), split into chunks.
await build({
  ...common,
  entryPoints: { program: resolve(ROOT, 'dist/cli/program.js') },
  outdir: OUT,
  splitting: true,
  plugins: [originalImportMetaUrl(OUT)],
});
// The entry, one file of its own that imports the program above only when it needs
// it: `vnp --version` and the hop to a light command read no shared chunk.
const programOutside = {
  name: 'program-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\/program\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  ...common,
  entryPoints: { main: resolve(ROOT, 'dist/cli/main.js') },
  outdir: OUT,
  plugins: [programOutside, originalImportMetaUrl(OUT)],
});

const { LIGHT_COMMANDS } = await import(resolve(ROOT, 'dist/cli/command-table.js'));
const COMMAND_OUT = resolve(OUT, 'command');
/** A light command's entry: the shared runner with that command's definition only. */
const lightEntry = {
  name: 'light-command-entry',
  setup(b) {
    b.onResolve({ filter: /^vnp-command:/ }, (args) => ({
      path: args.path.slice('vnp-command:'.length),
      namespace: 'vnp-command',
    }));
    b.onLoad({ filter: /.*/, namespace: 'vnp-command' }, (args) => {
      const c = LIGHT_COMMANDS.find((m) => m.module === args.path);
      return {
        contents: [
          `import { runProgram } from ${JSON.stringify(resolve(ROOT, 'dist/cli/run-program.js'))};`,
          `import { ${c.register} } from ${JSON.stringify(resolve(ROOT, `dist/cli/commands/${c.module}.js`))};`,
          `export const run = (argv, io) => runProgram(argv, io, [${c.register}]);`,
        ].join('\n'),
        loader: 'js',
        resolveDir: ROOT,
      };
    });
  },
};
await build({
  ...common,
  entryPoints: Object.fromEntries(LIGHT_COMMANDS.map((c) => [c.module, `vnp-command:${c.module}`])),
  outdir: COMMAND_OUT,
  plugins: [lightEntry, originalImportMetaUrl(COMMAND_OUT)],
});
