// Layering is enforced here, not in review (docs/adr/0002-layering.md, 0026-engine-facets.md):
// an allowed-imports map covers every src/ folder (ALLOWED); the engine and the store
// are imported only through their index.ts; the pure folders do no I/O; the engine
// reads no clock. test/layering/import-cycles.test.ts keeps src/ free of import loops.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const io = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'node:dgram',
  'node:os',
  'node:worker_threads',
  'fs',
  'net',
  'http',
  'child_process',
  'os',
];
const forbid = (...groups) => ({
  'no-restricted-imports': [
    'error',
    { patterns: groups.map((g) => ({ group: g.group, message: g.message })) },
  ],
});
const layer = (dir, other) => ({
  group: [`**/${other}/*`, `**/${other}`],
  message: `src/${dir}/ may not import src/${other}/ (the allowed-imports map in eslint.config.js; docs/adr/0026-engine-facets.md)`,
});
/** Outside its folder, a module is imported only through its index.ts. */
const throughIndex = (other) => ({
  group: [`**/${other}/*`, `!**/${other}/index.js`, `**/${other}/*/**`],
  message: `import src/${other}/ only through src/${other}/index.ts (docs/adr/0026-engine-facets.md)`,
});
const ioGroup = { group: io, message: 'pure layer: no I/O (see docs/adr/0002-layering.md)' };
const pkg = (...names) => ({ group: names, message: 'pure layer: no I/O packages' });

/**
 * The allowed-imports map: every folder of src/ and the folders it may import
 * (docs/adr/0026-engine-facets.md). A folder missing here is a lint error waiting to
 * happen: add it with the fewest folders it needs.
 */
const ALLOWED = {
  model: [],
  selector: ['model'],
  validate: ['model', 'selector'],
  engine: ['model', 'selector'],
  store: ['model'],
  k8s: ['model', 'selector', 'validate'],
  reactions: ['model', 'selector', 'validate', 'engine'],
  config: ['model'],
  client: ['model'],
  agent: ['model', 'client'],
  web: ['model', 'client'],
  server: ['model', 'selector', 'validate', 'engine', 'store', 'config', 'k8s', 'reactions'],
  // The command is the composition root: it starts the server and the agent.
  cli: ['model', 'client', 'config', 'agent', 'server'],
};
const FOLDERS = Object.keys(ALLOWED);
/** Folders imported from outside only through their index.ts. */
const THROUGH_INDEX = ['engine', 'store'];
/** Extra restrictions of the pure folders (no I/O). */
const pureGroups = [ioGroup, pkg('pg', '@electric-sql/pglite', 'fastify', 'ws')];
const PURE = {
  model: pureGroups,
  selector: pureGroups,
  validate: pureGroups,
  engine: pureGroups,
  k8s: [ioGroup, pkg('pg', '@electric-sql/pglite', 'fastify', 'ws', 'yaml')],
  // The web UI runs in the browser (docs/adr/0022-web-ui.md).
  web: [
    ...pureGroups,
    { group: ['node:*'], message: 'the web UI runs in the browser: no Node modules' },
  ],
};

// Size limits (docs/adr/0035-size-limits.md): a file is one concept (at most 500
// lines), a function fits on a screen (at most 80 lines of code, blank lines and
// comments not counted). Test files are exempt.
const SOURCES = ['src/**/*.ts', 'src/**/*.tsx'];
const TESTS = ['**/*.test.ts', '**/*.test.tsx'];
/**
 * The documented exceptions. `for: 'functions'` lifts max-lines-per-function for the
 * file, `for: 'file'` lifts max-lines. `until` names the work that removes a temporary
 * entry; entries without it are for good: declarative tables and registrations (a
 * command tree, a table of routes), whose length is a list, not logic.
 */
const SIZE_EXCEPTIONS = [
  // For good: declarative tables and registrations.
  { files: ['src/agent/nft/base-chains.ts'], for: 'functions', why: 'the table of base chains' },
  {
    files: [
      'src/cli/commands/config.ts',
      'src/cli/commands/daemons.ts',
      'src/cli/commands/token.ts',
    ],
    for: 'functions',
    why: 'commander command-tree registrations',
  },
  { files: ['src/server/routes/resources.ts'], for: 'functions', why: 'the route table of a kind' },
  {
    files: ['src/server/openapi-responses.ts'],
    for: 'file',
    why: 'the table of every operation and its answer (one entry per route)',
  },
  {
    files: ['src/store/conformance.ts', 'src/store/conformance-*.ts'],
    for: 'functions',
    why: 'test suites (describe blocks of cases), like test files',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.vnp/**',
      '.tmp/**',
      'bench/results/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'use named exports' },
      ],
    },
  },
  {
    // Tool configuration files must default-export.
    files: ['eslint.config.js', 'vitest.config.ts', 'src/web/vite.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/cli/main.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'configuration is parsed once in src/config; receive typed settings',
        },
      ],
    },
  },
  // One block per src/ folder (ALLOWED below): the folders it may import, nothing else.
  ...Object.entries(ALLOWED).map(([dir, allowed]) => ({
    files: [`src/${dir}/**/*.ts`, `src/${dir}/**/*.tsx`],
    ignores: ['**/*.test.ts', '**/*.test.tsx', 'src/web/vite.config.ts'],
    rules: forbid(
      ...(PURE[dir] ?? []),
      ...FOLDERS.filter((other) => other !== dir && !allowed.includes(other)).map((other) =>
        layer(dir, other),
      ),
      ...THROUGH_INDEX.filter((other) => other !== dir && allowed.includes(other)).map(
        throughIndex,
      ),
    ),
  })),
  {
    // The engine reads no clock it is not given: time arrives as an argument.
    files: ['src/engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'engine is pure: take the time as an argument',
        },
        {
          object: 'performance',
          property: 'now',
          message: 'engine is pure: take the time as an argument',
        },
        { object: 'process', property: 'env', message: 'modules receive typed settings' },
      ],
    },
  },
  {
    // Every `vnp` run defines the whole command tree, so command modules import
    // only what the definitions need; the rest is `await import()`ed inside the
    // action (docs/adr/0010-compiled-cli.md; test/cli/lazy-imports.test.ts).
    files: ['src/cli/commands/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(?!commander$|node:|\\./[a-z-]+\\.js$|\\.\\./(arguments|context|kinds|output)\\.js$|\\.\\./\\.\\./model/(errors|types|ports)\\.js$|\\.\\./\\.\\./client/api-types\\.js$)',
              allowTypeImports: true,
              message:
                'command modules load their implementation lazily: `await import()` it inside the action (docs/adr/0010-compiled-cli.md)',
            },
          ],
        },
      ],
    },
  },
  {
    files: SOURCES,
    ignores: TESTS,
    rules: {
      'max-lines': ['error', { max: 500 }],
      'max-lines-per-function': [
        'error',
        { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  ...SIZE_EXCEPTIONS.map((exception) => ({
    files: exception.files,
    ignores: TESTS,
    rules: { [exception.for === 'file' ? 'max-lines' : 'max-lines-per-function']: 'off' },
  })),
);
