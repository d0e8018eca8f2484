/**
 * vnp's compiled engine behind the judge interface: `engine.check` (the full,
 * explained verdict every API and CLI call uses) and, when the engine exposes one,
 * its lower-level verdict fast path.
 */
import { Engine } from '../src/engine/index.js';
import type { Document } from '../src/model/types.js';
import type { FlowJudge } from './baselines/judge.js';
import type { BenchFlow } from './generate.js';

/** What the bench needs from a loaded engine. */
export interface VnpUnderTest {
  engine: Engine;
  /** `engine.check` first, then the fast path when there is one. */
  judges: FlowJudge[];
}

type LoadInput = Parameters<Engine['load']>[0];

/**
 * Loads the documents into a fresh engine and wraps its verdict calls.
 *
 * @example
 *   const { judges } = loadVnp(model.documents); judges[0]!.allows(model.flows[0]!);
 */
export function loadVnp(docs: readonly Document[]): VnpUnderTest {
  const engine = new Engine({ identityGraceMs: 30_000 });
  engine.load(docs as unknown as LoadInput, 0);
  // A distinct function literal per call path keeps each hot loop monomorphic.
  const check: FlowJudge = {
    name: 'vnp engine.check',
    allows: (f: BenchFlow) => engine.check(f).verdict === 'allow',
  };
  const verdict: FlowJudge = {
    name: 'vnp engine.verdict (fast path)',
    allows: (f: BenchFlow) => engine.verdict(f.src, f.dst, f.protocol, f.port),
  };
  return { engine, judges: [check, verdict] };
}
