/**
 * The one document check that needs the selector language, kept out of src/model so the
 * leaf stays a leaf (src/model must not import src/selector).
 */
import { VnpError } from '../model/errors.js';
import { invalid, missing } from '../model/validate-primitives.js';
import { parseSelector } from '../selector/index.js';

/**
 * A selector field: parsed (so a bad one is refused at write time) and kept as
 * written. Syntax errors keep their column and gain the field.
 *
 * @example checkSelector('env == "prod"', 'appliesTo') // 'env == "prod"'
 */
export function checkSelector(v: unknown, field: string): string {
  const what = 'a selector (see docs/selectors.md), e.g. \'env == "prod"\'';
  if (v === undefined) throw missing(field, what);
  if (typeof v !== 'string') throw invalid(field, what, v);
  try {
    parseSelector(v);
  } catch (e) {
    if (e instanceof VnpError && e.code === 'VNP_ERR_SELECTOR_SYNTAX') {
      throw new VnpError(e.code, `${field}: ${e.message}`, { ...e.details, field });
    }
    throw e;
  }
  return v;
}
