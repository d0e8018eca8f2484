// Layering is enforced here, not in review (see docs/adr/0002-layering.md):
//   model ← selector ← engine ← server,  model ← store ← server,
//   model ← client ← {cli, agent, web}.  The engine is pure: no I/O, no clock.
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
const layer = (dir) => ({
  group: [`**/${dir}/*`, `**/${dir}`],
  message: `this layer may not import ${dir}/ (see docs/adr/0002-layering.md)`,
});
const ioGroup = { group: io, message: 'pure layer: no I/O (see docs/adr/0002-layering.md)' };
const pkg = (...names) => ({ group: names, message: 'pure layer: no I/O packages' });

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
  {
    files: ['src/model/**/*.ts', 'src/selector/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(
      ioGroup,
      pkg('pg', '@electric-sql/pglite', 'fastify', 'ws'),
      layer('engine'),
      layer('store'),
      layer('server'),
      layer('client'),
      layer('cli'),
      layer('agent'),
    ),
  },
  {
    files: ['src/engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      ...forbid(
        ioGroup,
        pkg('pg', '@electric-sql/pglite', 'fastify', 'ws'),
        layer('store'),
        layer('server'),
        layer('client'),
        layer('cli'),
        layer('agent'),
      ),
      // The engine reads no clock it is not given: time arrives as an argument.
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
    // The Kubernetes translator is pure and sees only the model and the selector language.
    files: ['src/k8s/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(
      ioGroup,
      pkg('pg', '@electric-sql/pglite', 'fastify', 'ws', 'yaml'),
      layer('engine'),
      layer('store'),
      layer('server'),
      layer('client'),
      layer('cli'),
      layer('agent'),
    ),
  },
  {
    files: ['src/store/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(layer('engine'), layer('server'), layer('client'), layer('cli'), layer('agent')),
  },
  {
    files: ['src/client/**/*.ts', 'src/agent/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbid(layer('server'), layer('store'), layer('cli')),
  },
  {
    // The web UI runs in the browser and knows the manager only through its HTTP API:
    // it may import src/model and src/client, nothing else of vnp, and no Node I/O
    // (docs/adr/0022-web-ui.md).
    files: ['src/web/**/*.ts', 'src/web/**/*.tsx'],
    ignores: ['**/*.test.ts', 'src/web/vite.config.ts'],
    rules: forbid(
      ioGroup,
      { group: ['node:*'], message: 'the web UI runs in the browser: no Node modules' },
      pkg('pg', '@electric-sql/pglite', 'fastify', 'ws'),
      layer('server'),
      layer('store'),
      layer('cli'),
      layer('engine'),
      layer('selector'),
      layer('agent'),
      layer('k8s'),
      layer('reactions'),
      layer('config'),
    ),
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
);
