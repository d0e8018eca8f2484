// Builds the web UI into dist/web at install time (`npm run build`, run by `npm ci`'s
// prepare); the manager serves it (src/server/routes/web-ui.ts). docs/adr/0022-web-ui.md.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  resolve: {
    // The shared client's default transport is node:http; the UI passes the browser's
    // fetch, so the node modules are never called — stub them out of the bundle.
    alias: { 'node:http': here('./node-stub.ts'), 'node:https': here('./node-stub.ts') },
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline polyfill script: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1200,
  },
});
