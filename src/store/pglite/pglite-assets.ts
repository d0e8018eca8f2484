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
import { setFlagsFromString } from 'node:v8';

/** The WebAssembly global (the project's TypeScript libraries declare its types, not the value). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> };
  }
).WebAssembly;

/**
 * V8 compiles PGlite's functions lazily and then re-compiles the hot ones with its
 * optimizing compiler, on as many background tasks as its thread pool has (Node: 4,
 * whatever the cores). A start-up runs enough statements for dozens of those jobs,
 * and on a 2-core machine four compiler threads took the core the main thread was
 * loading the model on: at a restart they were about a third of the process's CPU.
 * One task keeps a core for the main thread; the hot functions still get optimized,
 * one after the other (docs/adr/0071-one-wasm-compile-task.md).
 */
const WASM_COMPILE_TASKS = '--wasm-num-compilation-tasks=1';

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
    // Read by V8 when a module is compiled: set before the first one, process-wide.
    setFlagsFromString(WASM_COMPILE_TASKS);
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const bytes = readFileSync(join(dist, 'pglite.wasm'));
    return wasm.compile(bytes).then((wasmModule) => ({ wasmModule }));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
