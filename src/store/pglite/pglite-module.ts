/**
 * The PGlite WebAssembly module (PostgreSQL itself), compiled once per process
 * with optimizing code from the start.
 *
 * Why: with V8's default dynamic tiering every function of the 9 MB module
 * starts in baseline (Liftoff) code and is optimized only after it has run
 * hot for a while, so a freshly started manager spends about 40 % more CPU per
 * statement for its first thousands of statements (measured: 3.8 → 2.7 ms CPU
 * per event commit; event → reaction p50 and p99 both suffered). Compiling
 * with TurboFan up front costs 0.4–1.5 s of startup once (more on a loaded
 * machine); every later store in the process reuses the compiled module.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

/** The global WebAssembly object (the project's TypeScript libs declare only its types). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> };
  }
).WebAssembly;

let compiled: Promise<WebAssembly.Module> | undefined;

async function compile(): Promise<WebAssembly.Module> {
  const bytes = await readFile(
    createRequire(import.meta.url).resolve('@electric-sql/pglite/pglite.wasm'),
  );
  // The tiering mode is fixed when a module is compiled: turn dynamic tiering off
  // for this compile only, so other WebAssembly in the process keeps the default.
  setFlagsFromString('--no-wasm-dynamic-tiering');
  try {
    return await wasm.compile(bytes);
  } finally {
    setFlagsFromString('--wasm-dynamic-tiering');
  }
}

/**
 * The compiled module, for `PGlite.create({ pgliteWasmModule })`.
 *
 * @example const db = await PGlite.create({ dataDir, pgliteWasmModule: await pgliteModule() });
 */
export function pgliteModule(): Promise<WebAssembly.Module> {
  if (!compiled) {
    compiled = compile();
    // A failed compile is retried by the next caller rather than cached.
    compiled.catch(() => (compiled = undefined));
  }
  return compiled;
}
