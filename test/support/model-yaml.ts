/**
 * Renders a model as the multi-document YAML a user would `vnp apply`, for failure
 * messages that can be pasted into a file and replayed.
 */
import { stringify } from 'yaml';
import type { OracleModel } from './oracle/oracle-model.js';
import { oracleModelToDocuments } from './oracle/oracle-model.js';

/**
 * The model as `---`-separated YAML documents.
 *
 * @example console.log(modelToYaml(model));
 */
export function modelToYaml(model: OracleModel): string {
  return oracleModelToDocuments(model)
    .map((doc) => stringify(doc).trimEnd())
    .join('\n---\n');
}
