/**
 * The §2 oracle behind the Engine's public API (load/apply/check/
 * getPolicyForTags). Used to test the differential harness itself, and by
 * benchmarks as the "no compilation" baseline.
 */
import type { Document, Protocol, Tags } from '../../../src/model/types.js';
import type {
  Change,
  CheckRequest,
  CheckResult,
  ResolvedPolicy,
} from '../../../src/engine/index.js';
import { oracleCheck, oracleGetPolicyForTags } from './oracle-evaluator.js';
import {
  applyOracleChanges,
  emptyOracleModel,
  oracleModelFromDocuments,
  type OracleModel,
} from './oracle-model.js';

/** The subset of the Engine API the differential test uses. */
export interface EngineLike {
  load(docs: Document[], now: number): unknown;
  apply(changes: Change[], now: number): unknown;
  check(req: CheckRequest): CheckResult;
  /** The fast verdict path (true = allow), when the engine has one. */
  verdict?(src: string, dst: string, protocol: Protocol, port: number): boolean;
  getPolicyForTags(tags: Tags): ResolvedPolicy;
}

/**
 * An EngineLike that re-reads the plain model on every call.
 *
 * @example const e = new OracleEngine(); e.load(docs, 0); e.check({ src: 'a', dst: 'b', port: 80 });
 */
export class OracleEngine implements EngineLike {
  private model: OracleModel = emptyOracleModel();

  load(docs: Document[], _now: number): void {
    this.model = oracleModelFromDocuments(docs);
  }

  apply(changes: Change[], _now: number): void {
    this.model = applyOracleChanges(this.model, changes);
  }

  check(req: CheckRequest): CheckResult {
    return oracleCheck(this.model, req);
  }

  verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    return this.check({ src, dst, protocol, port }).verdict === 'allow';
  }

  getPolicyForTags(tags: Tags): ResolvedPolicy {
    return oracleGetPolicyForTags(this.model, tags);
  }
}
