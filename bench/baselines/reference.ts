/**
 * The §2 oracle (test/support/oracle) behind the judge interface: §2
 * transcribed literally, scanning every record, partition and rule per flow. It is the
 * normative oracle of the agreement check and the "no compilation at all" row.
 */
import type { Document } from '../../src/model/types.js';
import { oracleCheck } from '../../test/support/oracle/oracle-evaluator.js';
import {
  oracleModelFromDocuments,
  type OracleModel,
} from '../../test/support/oracle/oracle-model.js';
import type { BenchFlow } from '../generate.js';
import type { FlowJudge } from './judge.js';

/**
 * The §2 oracle over a set of documents.
 *
 * @example
 *   new ReferenceJudge(model.documents).allows(model.flows[0]!);
 */
export class ReferenceJudge implements FlowJudge {
  readonly name = 'reference evaluator (§2 scan)';
  private readonly model: OracleModel;

  constructor(docs: readonly Document[]) {
    this.model = oracleModelFromDocuments(docs);
  }

  allows(flow: BenchFlow): boolean {
    return oracleCheck(this.model, flow).verdict === 'allow';
  }
}
