import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBNET, body } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

describe('probes, metrics, OpenAPI, PEPs', () => {
  it('/healthz and /readyz', async () => {
    expect((await s.call('GET', '/healthz', { as: null })).body).toEqual({ status: 'ok' });
    const ready = await s.call('GET', '/readyz', { as: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      backend: 'pglite',
      revision: s.manager.revision,
    });
  });

  it('/readyz answers 503 VNP_ERR_UNAVAILABLE when the store does not', async () => {
    const orig = s.store.revision.bind(s.store);
    s.store.revision = async () => {
      throw new Error('connection refused');
    };
    try {
      const r = await s.call('GET', '/readyz', { as: null });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('VNP_ERR_UNAVAILABLE');
      expect((await s.call('GET', '/healthz', { as: null })).status).toBe(200);
    } finally {
      s.store.revision = orig;
    }
  });

  it('/metrics exposes latency, revision, compile time, objects and identities', async () => {
    await s.call('POST', '/v1/subnets', { body: body(SUBNET) });
    await s.call('GET', '/v1/subnets');
    const r = await s.call('GET', '/metrics', { as: 'viewer' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toMatch(
      /vnp_http_request_duration_seconds_count\{route="\/v1\/subnets",method="GET",status="200"\} \d+/,
    );
    expect(r.text).toContain(`vnp_revision ${s.manager.revision}`);
    expect(r.text).toMatch(/vnp_last_compile_seconds \d/);
    expect(r.text).toContain('vnp_objects{kind="Subnet"} 1');
    expect(r.text).toMatch(/vnp_identities \d+/);
  });

  it('/openapi.json describes every /v1 route with schemas and bearer auth', async () => {
    const r = await s.call('GET', '/openapi.json', { as: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(r.body.paths);
    for (const p of [
      '/v1/subnets',
      '/v1/subnets/{name}',
      '/v1/interfaces/{name}/attach',
      '/v1/interfaces/{name}/tags',
      '/v1/apply',
      '/v1/import/k8s',
      '/v1/check',
      '/v1/policy-for-tags',
      '/v1/settings',
      '/v1/tokens',
      '/v1/tokens/{id}',
      '/v1/audit',
      '/v1/watch',
      '/v1/peps',
    ]) {
      expect(paths, p).toContain(p);
    }
    // Titled schemas are named components: follow the $ref.
    const body = r.body.paths['/v1/subnets'].post.requestBody.content['application/json'].schema;
    const schema = body.$ref
      ? r.body.components.schemas[String(body.$ref).replace('#/components/schemas/', '')]
      : body;
    expect(schema.properties.cidr).toBeDefined();
    expect(r.body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(paths).not.toContain('/metrics');
  });

  it('GET /v1/peps has its shape (empty until the agent protocol lands)', async () => {
    const r = await s.call('GET', '/v1/peps', { as: 'agent' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ items: [] });
  });

  it('gives a 500 a request id and the registry shape', async () => {
    const orig = s.manager.engine.list.bind(s.manager.engine);
    s.manager.engine.list = () => {
      throw new Error('boom');
    };
    try {
      const r = await s.call('GET', '/v1/subnets');
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('VNP_ERR_INTERNAL');
      expect(typeof r.body.error.details.requestId).toBe('string');
      expect(r.headers['x-request-id']).toBe(r.body.error.details.requestId);
      expect(r.text).not.toContain('boom');
    } finally {
      s.manager.engine.list = orig;
    }
  });
});
