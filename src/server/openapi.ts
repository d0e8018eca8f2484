/**
 * /openapi.json a generator can use (issue 16 §6; docs/adr/0025-openapi.md):
 * - every /v1 operation answers with its success schema ({@link SUCCESS}, unless the route
 *   declares `schema.response` itself) and the error statuses it can give, each with the
 *   `Error` schema and the codes of the registry (src/model/errors.ts) for that status;
 * - every schema with a `title` is published once under `components.schemas` and
 *   referenced (`$ref`), so generated clients get named types.
 * test/server/openapi.test.ts holds every route to this, also routes added later.
 */
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../model/errors.js';
import { ErrorBody, SUCCESS, type Ndjson, type Success } from './openapi-responses.js';

type Json = Record<string, unknown>;

/** The error codes of one status, for the response's description (once per status: every route asks). */
const codesByStatus = new Map<number, string>();
function codesOf(status: number): string {
  let codes = codesByStatus.get(status);
  if (codes === undefined) {
    codes = Object.entries(ERROR_CODES)
      .filter(([, v]) => v.status === status)
      .map(([code]) => code)
      .join(', ');
    codesByStatus.set(status, codes);
  }
  return codes;
}

/**
 * The error statuses an operation can answer: 400 (request), 401/403 (token, role) unless
 * public, 404 with a path parameter, 409/422 for writes (422 also with a query), 413/415 with a body, 429 (rate
 * limits), 503 (not ready).
 *
 * @example errorStatuses('PUT', '/v1/interfaces/{name}', 'admin') // [400, 401, 403, 404, 409, 413, 415, 422, 429, 503]
 */
export function errorStatuses(
  method: string,
  path: string,
  access: string | undefined,
  query = false,
): number[] {
  const write = method !== 'GET';
  return [
    400,
    ...(access === 'public' ? [] : [401, 403]),
    ...(path.includes('{') ? [404] : []),
    ...(write ? [409] : []),
    ...(write && method !== 'DELETE' ? [413, 415] : []),
    // A query can name what does not exist (who-can-reach?dst=nosuch: VNP_ERR_UNKNOWN_ENDPOINT).
    ...(write || query ? [422] : []),
    429,
    503,
  ].sort((a, b) => a - b);
}

function successSchema(success: Success): Json {
  const ndjson = (success.schema as Ndjson).ndjson;
  if (ndjson !== undefined)
    return {
      description: success.description,
      content: { 'application/x-ndjson': { schema: ndjson } },
    };
  return { description: success.description, ...(success.schema as Json) };
}

/**
 * Give every /v1 route registered from now on its documented responses.
 *
 * @example installOpenApiResponses(app); // before registering routes
 */
export function installOpenApiResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1') || route.schema?.hide) return;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const schema = (route.schema ??= {}) as Json;
      const response = (schema.response ??= {}) as Json;
      const success = SUCCESS[`${method} ${path}`];
      if (success !== undefined && !Object.keys(response).some((k) => k.startsWith('2'))) {
        response[String(success.status)] = successSchema(success);
        if (success.orCreated) response['201'] = successSchema(success);
      }
      const query = schema.querystring !== undefined;
      for (const status of errorStatuses(method, path, route.config?.access, query))
        response[String(status)] ??= { description: codesOf(status), ...ErrorBody };
    }
  });
}

/**
 * Move every titled schema of the document into `components.schemas` (by title) and
 * refer to it there. Two different schemas with one title are a bug: thrown.
 *
 * @example hoistNamedSchemas(doc).components.schemas.Interface // { type: 'object', … }
 */
export function hoistNamedSchemas(doc: Json): Json {
  const components = (((doc.components ??= {}) as Json).schemas ??= {});
  const named = components as Record<string, Json>;
  const seen = new Map<string, string>();
  const visit = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, false));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Json;
    const out: Json = {};
    for (const [k, v] of Object.entries(obj)) out[k] = visit(v, false);
    const title = obj.title;
    const isSchema = 'type' in obj || 'allOf' in obj || 'anyOf' in obj || 'oneOf' in obj;
    if (top || typeof title !== 'string' || !isSchema) return out;
    // A response's own description is not part of the named type.
    const { description: _own, ...body } = out;
    const text = JSON.stringify(body);
    const before = seen.get(title);
    if (before !== undefined && before !== text)
      throw new Error(`openapi: two different schemas are titled ${title}: give one another title`);
    seen.set(title, text);
    named[title] ??= body;
    return { $ref: `#/components/schemas/${title}` };
  };
  doc.paths = visit(doc.paths, true) as Json;
  return doc;
}
