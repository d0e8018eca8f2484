/**
 * The reference evaluator behind the Engine's public API (load/apply/check/
 * getPolicyForTags). Used to test the differential harness itself, and by
 * benchmarks as the "no compilation" baseline.
 */
import type { Document, Protocol, Tags } from '../../src/model/types.js';
import type { Change, CheckRequest, CheckResult, ResolvedPolicy } from '../../src/engine/types.js';
import {
  referenceCheck,
  referenceGetPolicyForTags,
} from '../../src/engine/reference/reference-evaluator.js';
import {
  applyReferenceChanges,
  emptyReferenceModel,
  referenceModelFromDocuments,
  type ReferenceModel,
} from '../../src/engine/reference/reference-model.js';

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
 * @example const e = new ReferenceEngine(); e.load(docs, 0); e.check({ src: 'a', dst: 'b', port: 80 });
 */
export class ReferenceEngine implements EngineLike {
  private model: ReferenceModel = emptyReferenceModel();

  load(docs: Document[], _now: number): void {
    this.model = referenceModelFromDocuments(docs);
  }

  apply(changes: Change[], _now: number): void {
    this.model = applyReferenceChanges(this.model, changes);
  }

  check(req: CheckRequest): CheckResult {
    return referenceCheck(this.model, req);
  }

  verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    return this.check({ src, dst, protocol, port }).verdict === 'allow';
  }

  getPolicyForTags(tags: Tags): ResolvedPolicy {
    return referenceGetPolicyForTags(this.model, tags);
  }
}
