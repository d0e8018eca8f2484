/**
 * The one interface every benchmarked evaluator is wrapped in, so the timing loop
 * and the agreement check treat vnp, the reference, the seed, Cedar and Casbin alike.
 */
import type { BenchFlow } from '../generate.js';

/** Judges flows: true when the flow is allowed (both sides, design.md §2). */
export interface FlowJudge {
  /** Row label in the results table. */
  readonly name: string;
  /**
   * The verdict of one flow.
   *
   * @example
   *   judge.allows({ src: 'r1', dst: 'r2', protocol: 'tcp', port: 443 }) // true
   */
  allows(flow: BenchFlow): boolean;
}
