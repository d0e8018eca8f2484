/**
 * PGlite's WebAssembly (PostgreSQL, 9 MB), read and compiled before `PGlite.create`
 * asks for it (docs/adr/0054-pglite-compiled-first.md).
 *
 * Why: PGlite reads and compiles its WebAssembly only deep inside `create`, after its
 * own module has loaded and its file bundle was read, so the manager's app (evaluated
 * on the main thread meanwhile) ran before the compile had started. Started first,
 * the compile (V8 does it on background threads) runs while the main thread loads the
 * rest, and `create` only instantiates the module.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The WebAssembly global (the project's TypeScript libraries declare its types, not the value). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> };
  }
).WebAssembly;

/** What `PGlite.create` takes instead of reading and compiling its WebAssembly itself. */
export interface PgliteAssets {
  wasmModule: WebAssembly.Module;
}

/**
 * Start reading and compiling PGlite's WebAssembly: the file PGlite would read (its
 * package's dist/). Its file bundle PGlite reads itself, early and off the main thread.
 *
 * @example
 *   const assets = loadPgliteAssets(); // at once, before other work
 *   const { wasmModule } = await assets;
 *   await PGlite.create({ dataDir, pgliteWasmModule: wasmModule });
 */
export function loadPgliteAssets(): Promise<PgliteAssets> {
  // Read synchronously (a few ms for 9 MB): an asynchronous read takes a turn of the
  // event loop per 512 KiB, and the manager's app, loaded and built on the main thread
  // meanwhile, held those turns back until it was done, so the compile started only
  // then and PGlite's open waited for it. Read at once, the compile runs beside the
  // app's load (docs/adr/0065-restart-without-redundant-work.md).
  try {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const bytes = readFileSync(join(dist, 'pglite.wasm'));
    return wasm.compile(bytes).then((wasmModule) => ({ wasmModule }));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
