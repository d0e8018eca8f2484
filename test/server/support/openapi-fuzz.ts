/**
 * Fuzzed requests derived from the manager's own /openapi.json: for every operation,
 * bodies shaped by its request schema (with values at and beyond every bound, wrong
 * types, NUL and lone surrogates, deep nesting mixed in), path parameters and query
 * strings; plus raw malformed HTTP for a socket. Used by the fuzz test (bounded) and
 * `npm run bench -- security` (≥ 100,000 inputs).
 */
import fc from 'fast-check';

/** The part of a JSON schema (as /openapi.json gives it) the generator reads. */
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  $ref?: string;
}

interface Operation {
  parameters?: { in: string; name: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** One request to send. */
export interface FuzzRequest {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
}

const EDGE_STRINGS = [
  '',
  'web1',
  'db1',
  'lan',
  'host-a',
  '10.0.0.10',
  '10.0.0.0/24',
  '::1',
  'all()',
  'app == "web"',
  'tcp/443',
  'a\u0000b',
  '\ud800',
  'x'.repeat(300),
  '../../etc/passwd',
  '10.0.0.1 self\nlink set dev eth0 down',
];
const EDGE_NUMBERS = [
  -1, 0, 1, 255, 256, 65535, 65536, 2147483647, 2147483648, 9007199254740991, 1e21, 1.5, -0,
];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const edgeString = fc.oneof(fc.constantFrom(...EDGE_STRINGS), fc.string({ maxLength: 20 }));

/** An arbitrary for values of `schema`, mostly valid-shaped, sometimes anything. */
function valueOf(schema: Schema | undefined, depth: number): fc.Arbitrary<unknown> {
  if (!schema || schema.$ref || depth > 4) return anyJson;
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return fc.oneof(...alts.map((a) => valueOf(a, depth + 1)));
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), edgeString);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const shaped = (() => {
    switch (type) {
      case 'string':
        return edgeString;
      case 'integer':
      case 'number': {
        const lo = schema.minimum ?? -1000;
        const hi = schema.maximum ?? 1e6;
        return fc.oneof(
          fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31 - 1) }),
          fc.constantFrom(lo - 1, hi + 1, ...EDGE_NUMBERS),
        );
      }
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(valueOf(schema.items, depth + 1), { maxLength: 3 });
      case 'object': {
        const props = Object.entries(schema.properties ?? {});
        if (props.length === 0) return fc.dictionary(edgeString, anyJson, { maxKeys: 3 });
        return fc.record(Object.fromEntries(props.map(([k, v]) => [k, valueOf(v, depth + 1)])), {
          requiredKeys: [],
        });
      }
      default:
        return anyJson;
    }
  })();
  return fc.oneof({ weight: 8, arbitrary: shaped }, { weight: 1, arbitrary: anyJson });
}

/** A body text: the shaped value as JSON, or malformed / deeply nested text. */
function bodyText(schema: Schema | undefined): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: valueOf(schema, 0).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 60, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    },
  );
}

const pathValue = fc.oneof(
  fc.constantFrom('web1', 'db1', 'lan', 'vm1', 'db-in', 'prod', 'host-a', 'zz-missing'),
  fc.string({ maxLength: 12 }),
);

/** Whether an operation streams (a fuzzer must not wait for its end). */
export function streams(path: string): boolean {
  return path.endsWith('/watch');
}

/**
 * An arbitrary over every (non-streaming) operation of an OpenAPI document.
 *
 * @example fc.sample(requestsOf(await (await fetch(url + '/openapi.json')).json()), 1)
 */
export function requestsOf(doc: { paths: Record<string, Record<string, Operation>> }) {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    streams(path) ? [] : Object.entries(methods).map(([m, op]) => ({ path, m, op })),
  );
  return fc.oneof(
    ...ops.map(({ path, m, op }) => {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      const content = op.requestBody?.content ?? {};
      const type = Object.keys(content)[0];
      return fc
        .record({
          params: fc.array(pathValue, { minLength: 3, maxLength: 3 }),
          query: fc
            .subarray(query)
            .chain((qs) => fc.tuple(...qs.map((q) => edgeString.map((v) => [q.name, v] as const)))),
          body: type ? bodyText(content[type]!.schema) : fc.constant(undefined),
        })
        .map(({ params, query: q, body }): FuzzRequest => {
          let i = 0;
          const url = path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[i++]!));
          const qs = new URLSearchParams(q.map(([k, v]) => [k, v] as [string, string])).toString();
          return {
            method: m.toUpperCase(),
            url: qs ? `${url}?${qs}` : url,
            ...(body !== undefined ? { body, contentType: type! } : {}),
          };
        });
    }),
  );
}

/** Raw bytes for a socket: broken request lines, headers, chunking, lengths. */
export const malformedHttp: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    'GET /v1/subnets HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /v1/apply HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    'POST /v1/apply HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'GET /%ZZ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    'GET /v1/subnets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0000\r\n\r\n',
    'PATCH /v1/interfaces/web1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/merge-patch+json\r\nContent-Length: 3\r\n\r\n{"a',
  ),
  fc
    .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'BREW', ''), fc.string({ maxLength: 30 }))
    .map(([m, p]) => `${m} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`),
);
