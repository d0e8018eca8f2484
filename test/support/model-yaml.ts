/**
 * Renders a model as the multi-document YAML a user would `vnp apply`, for failure
 * messages that can be pasted into a file and replayed.
 */
import { stringify } from 'yaml';
import type { ReferenceModel } from '../../src/engine/reference/reference-model.js';
import { referenceModelToDocuments } from '../../src/engine/reference/reference-model.js';

/**
 * The model as `---`-separated YAML documents.
 *
 * @example console.log(modelToYaml(model));
 */
export function modelToYaml(model: ReferenceModel): string {
  return referenceModelToDocuments(model)
    .map((doc) => stringify(doc).trimEnd())
    .join('\n---\n');
}
