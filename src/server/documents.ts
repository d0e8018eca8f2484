/**
 * Request bodies → validated documents. The REST routes and `apply` share this so
 * a resource reads the same whichever way it arrives. Server-set metadata
 * (`revision`, `createdAt`, `updatedAt`) in a body is ignored, so what a GET
 * returns can be PUT back.
 */
import { VnpError, fieldError } from '../model/errors.js';
import { stripMeta } from '../model/strip-meta.js';
import type { Document, Kind, TestDocument } from '../model/types.js';
import { validateDocument, validateResource, validateTestDocument } from '../validate/validate.js';

/**
 * Validate a resource body of `kind`; `pathName` (PUT) must agree with `body.name`.
 *
 * @example
 *   resourceFromBody('Subnet', { cidr: '10.0.0.0/24' }, 'net1')
 *   // { kind: 'Subnet', name: 'net1', cidr: '10.0.0.0/24' }
 */
export function resourceFromBody(kind: Kind, body: unknown, pathName?: string): Document {
  const obj = stripMeta(body as Record<string, unknown>);
  if (pathName !== undefined) {
    if (obj.name !== undefined && obj.name !== pathName) {
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `name: the body says ${JSON.stringify(obj.name)} but the path says ${JSON.stringify(pathName)}`,
        { field: 'name', expected: pathName },
      );
    }
    obj.name = pathName;
  }
  return validateResource(kind, obj);
}

/**
 * Validate one document of an apply batch; `kind: Test` documents come back apart.
 * Field paths in errors start at `documents[i]`.
 *
 * @example
 *   documentFromApply({ kind: 'Test', name: 't', src: 'a', dst: 'b', expect: 'deny' }, 0)
 *   // { test: { kind: 'Test', … } }
 */
export function documentFromApply(
  raw: unknown,
  index: number,
): { doc?: Document; test?: TestDocument } {
  const field = `documents[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fieldError(field, 'a document object', raw);
  }
  const obj = raw as Record<string, unknown>;
  if (obj.kind === 'Test') return { test: validateTestDocument(obj, field) };
  return { doc: validateDocument(obj, field) };
}
