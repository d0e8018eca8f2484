/**
 * The reference evaluator (src/engine/reference) behind the judge interface: §2
 * transcribed literally, scanning every record, partition and rule per flow. It is the
 * normative oracle of the agreement check and the "no compilation at all" row.
 */
import type { Document } from '../../src/model/types.js';
import { referenceCheck } from '../../src/engine/reference/reference-evaluator.js';
import {
  referenceModelFromDocuments,
  type ReferenceModel,
} from '../../src/engine/reference/reference-model.js';
import type { BenchFlow } from '../generate.js';
import type { FlowJudge } from './judge.js';

/**
 * The reference evaluator over a set of documents.
 *
 * @example
 *   new ReferenceJudge(model.documents).allows(model.flows[0]!);
 */
export class ReferenceJudge implements FlowJudge {
  readonly name = 'reference evaluator (§2 scan)';
  private readonly model: ReferenceModel;

  constructor(docs: readonly Document[]) {
    this.model = referenceModelFromDocuments(docs);
  }

  allows(flow: BenchFlow): boolean {
    return referenceCheck(this.model, flow).verdict === 'allow';
  }
}
