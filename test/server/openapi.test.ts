/**
 * /openapi.json is a contract a generator can use (issue 16 §6; docs/adr/0025-openapi.md):
 * - every /v1 operation, also one added later, has a success response with a schema and
 *   its error statuses with the `Error` schema;
 * - schemas are named components;
 * - real answers of a real manager validate against their published schemas;
 * - openapi-typescript generates types from the served document that type-check, and
 *   what they promise fits what src/client/api-types.ts expects.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking JSON

let s: TestServer;
let spec: Json;
beforeAll(async () => {
  s = await startTestServer();
  expect((await s.call('POST', '/v1/apply', { body: { documents: MODEL } })).status).toBe(200);
  spec = (await s.call('GET', '/openapi.json')).body as Json;
}, 60_000);
afterAll(async () => s?.close());

function operations(): [string, string, Json][] {
  return Object.entries(spec.paths as Json).flatMap(([path, ops]) =>
    Object.entries(ops as Json).map(
      ([m, op]) => [m.toUpperCase(), path, op as Json] as [string, string, Json],
    ),
  );
}

const HOW =
  "declare `schema.response` on the route ({200: Schema} — a TypeBox schema with a `title` becomes a named component) or add '%s' to SUCCESS in src/server/openapi-responses.ts";

describe('/openapi.json', () => {
  it('every operation has a success response with a schema and its errors with the Error schema', () => {
    const missing: string[] = [];
    for (const [method, path, op] of operations()) {
      const key = `${method} ${path}`;
      const responses = op.responses as Json;
      const success = Object.keys(responses).filter((c) => /^2\d\d$/.test(c));
      const schemaOf = (c: string) =>
        Object.values((responses[c].content ?? {}) as Json)[0]?.schema;
      if (success.length === 0 || success.some((c) => !schemaOf(c)))
        missing.push(`${key}: no success schema — ${HOW.replace('%s', key)}`);
      for (const status of ['400', '429'])
        if (schemaOf(status)?.$ref !== '#/components/schemas/Error')
          missing.push(
            `${key}: ${status} does not answer the Error schema (src/server/openapi.ts adds it to every /v1 route)`,
          );
      if (op['x-vnp-access'] !== 'public' && !responses['401'])
        missing.push(`${key}: no 401 (a route needing a token can refuse one)`);
    }
    expect(missing).toEqual([]);
    expect(operations().length).toBeGreaterThan(60);
  });

  it('creates answer 201 as documented; schemas are named components', async () => {
    expect(spec.paths['/v1/interfaces'].post.responses['201']).toBeDefined();
    expect(spec.paths['/v1/tokens'].post.responses['201']).toBeDefined();
    expect(spec.paths['/v1/events'].post.responses['201']).toBeDefined();
    const names = Object.keys(spec.components.schemas as Json);
    for (const n of [
      'Error',
      'Interface',
      'InterfaceBody',
      'InterfaceList',
      'Policy',
      'ApplyResult',
      'CheckResult',
    ])
      expect(names).toContain(n);
    const created = await s.call('POST', '/v1/events', {
      as: 'operator',
      body: { type: 'ids.alert', target: 'web1' },
    });
    expect(created.status, created.text).toBe(201);
  });

  it('every documented limit maximum is enforced (400 beyond it, never clamped)', async () => {
    const limited = operations().filter(
      ([m, , op]) =>
        m === 'GET' &&
        (op.parameters ?? []).some((p: Json) => p.in === 'query' && p.name === 'limit'),
    );
    expect(limited.length).toBeGreaterThan(5);
    for (const [, path, op] of limited) {
      if (path.includes('{')) continue;
      const limit = (op.parameters as Json[]).find((p) => p.name === 'limit')!;
      expect(limit.schema.pattern, `${path}: limit has no bound`).toBeDefined();
      const over = await s.call('GET', `${path}?limit=1001`, { as: 'admin' });
      expect(over.status, `${path}?limit=1001`).toBe(400);
      expect((await s.call('GET', `${path}?limit=1000`)).status, `${path}?limit=1000`).toBe(200);
    }
  });

  it('real answers validate against their published schemas', async () => {
    const req = createRequire(createRequire(import.meta.url).resolve('@fastify/ajv-compiler'));
    const Ajv = req('ajv').default as new (o: object) => {
      addSchema(s: object): void;
      compile(s: object): ((d: unknown) => boolean) & { errors?: unknown };
    };
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'spec', ...spec });
    const calls: [string, string, unknown?][] = [
      ...['subnets', 'instances', 'interfaces', 'partitions', 'policies', 'reactions'].map(
        (p) => ['GET', `/v1/${p}`] as [string, string],
      ),
      ['GET', '/v1/interfaces/web1'],
      ['GET', '/v1/settings'],
      ['GET', '/v1/audit'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/events'],
      ['GET', '/v1/history'],
      ['GET', '/v1/peps'],
      ['GET', '/v1/identities'],
      ['GET', '/v1/version'],
      ['GET', '/v1/auth/can-i?verb=get&resource=interfaces'],
      ['GET', '/v1/who-can-reach?dst=db1'],
      ['GET', '/v1/diff?from=1&to=2'],
      ['POST', '/v1/check', { src: 'web1', dst: 'db1', protocol: 'tcp', port: 5432 }],
      ['POST', '/v1/policy-for-tags', { tags: { app: 'web' } }],
      ['PATCH', '/v1/interfaces/web1/tags', { set: { probe: 'x' } }],
      ['POST', '/v1/tokens', { role: 'viewer' }],
      ['POST', '/v1/apply', { documents: MODEL, dryRun: true }],
      ['GET', '/v1/interfaces/nosuch'],
      ['GET', '/v1/interfaces?limit=x'],
    ];
    const failures: string[] = [];
    for (const [method, url, body] of calls) {
      const r = await s.call(method, url, body === undefined ? {} : { body });
      const path = url.split('?')[0]!.replace('/web1', '/{name}').replace('/nosuch', '/{name}');
      const response = spec.paths[path]?.[method.toLowerCase()]?.responses?.[String(r.status)];
      if (response?.content?.['application/json']?.schema === undefined) {
        failures.push(`${method} ${url}: answered ${r.status}, which is not documented`);
        continue;
      }
      // A JSON pointer into the served document: its $refs resolve against it.
      const pointer = ['paths', path, method.toLowerCase(), 'responses', String(r.status)]
        .concat(['content', 'application/json', 'schema'])
        .map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1')))
        .join('/');
      const validate = ajv.compile({ $ref: `spec#/${pointer}` });
      if (!validate(r.body))
        failures.push(
          `${method} ${url} ${r.status}: ${JSON.stringify(validate.errors).slice(0, 400)}`,
        );
    }
    expect(failures).toEqual([]);
  });

  it('openapi-typescript generates types that type-check and fit src/client', async () => {
    const dir = resolve('.tmp/openapi-types');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'api.d.ts'), astToString(await openapiTS(spec as never)));
    // What the server promises (generated) must be assignable to what the client expects.
    const pairs: [string, string][] = [
      ['IdentityInfo', 'IdentityInfo'],
      ['ServerVersion', 'ServerVersion'],
      ['CanIAnswer', 'CanIAnswer'],
      ['AuditEntry', 'AuditEntry'],
      ['TokenInfo', 'TokenInfo'],
      ['CreatedToken', 'CreatedToken'],
      ['RotatedToken', 'RotatedToken'],
      ['PepInfo', 'PepInfo'],
      ['ApplyResult', 'ApplyResult'],
      ['ResolvedPolicy', 'ResolvedPolicy'],
      ['Document', 'ApiResource'],
      ['Interface', "Omit<Extract<C.ApiResource, { kind: 'Interface' }>, 'kind'>"],
    ];
    const client = resolve('src/client/api-types.js');
    writeFileSync(
      join(dir, 'fit.ts'),
      [
        `import type { components } from './api.js';`,
        `import type * as C from '${client}';`,
        `type S = components['schemas'];`,
        ...pairs.map(
          ([g, c]) =>
            `export const fit${g}: (x: S['${g}']) => ${c.includes('<') ? c : `C.${c}`} = (x) => x;`,
        ),
      ].join('\n') + '\n',
    );
    const program = ts.createProgram([join(dir, 'fit.ts')], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
    });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) =>
          `${d.file?.fileName.split('/').pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    expect(errors).toEqual([]);
  }, 60_000);
});
