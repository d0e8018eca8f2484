/**
 * Node 20's V8 aborts the process ("Fatal error ... unreachable code" in
 * `Deoptimizer::DoComputeBuiltinContinuation`) when optimized code that inlined a
 * JS→Wasm call is lazily deoptimized while the Wasm call is on the stack — which
 * cedar-wasm triggers after a few thousand `statefulIsAuthorized` calls (its glue
 * allocates JS objects from inside Wasm, invalidating the caller's code). Turning
 * that one inlining off avoids the crash. It only changes how JS calls into Wasm
 * (Cedar pays the generic JS→Wasm wrapper, nanoseconds against its milliseconds);
 * vnp's code runs no Wasm and is unaffected. Import this module before any hot loop.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-turbo-inline-js-wasm-calls');

/** True once the flag is set (importing this module sets it). */
export const JS_WASM_INLINING_DISABLED = true;
