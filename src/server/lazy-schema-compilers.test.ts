import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';

const schema = {
  body: {
    type: 'object',
    required: ['a'],
    properties: { a: { type: 'integer' } },
    additionalProperties: false,
  },
  response: { 200: { type: 'object', properties: { a: { type: 'integer' } } } },
};

async function app(routeSchema: object) {
  const lazy = lazySchemaCompilers();
  const f = Fastify({ schemaController: { compilersFactory: lazy.compilersFactory } });
  f.post('/x', { schema: routeSchema }, async (req) => ({ ...(req.body as object), extra: 1 }));
  await f.ready();
  return { f, lazy };
}

describe('lazy schema compilers', () => {
  it('validate as Fastify’s own compilers do; answers are sent whole (response schemas document)', async () => {
    const { f } = await app(schema);
    const bad = await f.inject({ method: 'POST', url: '/x', payload: { b: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe("body must have required property 'a'");
    const good = await f.inject({ method: 'POST', url: '/x', payload: { a: 1 } });
    // Response schemas never filter an answer (docs/adr/0025-openapi.md): all of it is sent.
    expect(good.body).toBe('{"a":1,"extra":1}');
    await f.close();
  });

  it('compileAll surfaces a broken schema that no request has used yet', async () => {
    const { f, lazy } = await app({
      body: { type: 'object', properties: { a: { type: 'nope' } } },
    });
    expect(() => lazy.compileAll()).toThrow(/schema is invalid/);
    await f.close();
  });
});
