#!/usr/bin/env node
// Launcher: runs the compiled and bundled CLI in dist/bundle/ (built by `npm run
// build`, which `npm ci` and `npm install` run as `prepare`), so `vnp` starts without
// a TypeScript loader (docs/adr/0010-compiled-cli.md, docs/adr/0047-bundled-start.md). A checkout with no build yet still works: it
// says so on stderr and runs the sources through tsx (slower; development only).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/bundle/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'vnp: no compiled CLI in dist/ (run `npm run build`; `npm ci` does it): running the sources with tsx, which is slower\n',
  );
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'error: VNP_ERR_UNAVAILABLE: dist/ is missing and tsx is not installed: run `npm ci`\n',
    );
    process.exit(1);
  }
  register();
  await import('../src/cli/main.ts');
}
