import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBNET, body } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ settings: { bodyLimit: 64 * 1024 } });
});
afterAll(async () => {
  await s?.close();
});

describe('error mapping', () => {
  it('bad JSON → 400 VNP_ERR_BAD_JSON', async () => {
    const r = await s.call('POST', '/v1/subnets', { raw: '{"name": "x",' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VNP_ERR_BAD_JSON');
  });

  it('empty JSON body → 400 VNP_ERR_BAD_JSON', async () => {
    const r = await s.call('POST', '/v1/subnets', { raw: '' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VNP_ERR_BAD_JSON');
  });

  it('prototype pollution attempts are refused as bad JSON', async () => {
    const r = await s.call('POST', '/v1/subnets', {
      raw: '{"name":"p","cidr":"10.1.0.0/24","__proto__":{"x":1}}',
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VNP_ERR_BAD_JSON');
  });

  it('unknown field → 400 VNP_ERR_VALIDATION naming it', async () => {
    const r = await s.call('POST', '/v1/subnets', { body: { ...body(SUBNET), colour: 'red' } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'VNP_ERR_VALIDATION',
      details: { field: 'colour' },
    });
  });

  it('wrong type deep inside → the field path', async () => {
    const r = await s.call('PUT', '/v1/policies/p', {
      body: { priority: 1, appliesTo: 'all()', ingress: [{ action: 'allow', ports: [443] }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('ingress[0].ports[0]');
  });

  it('no type coercion: "5" is not an integer', async () => {
    const r = await s.call('PUT', '/v1/policies/p', {
      body: { priority: '5', appliesTo: 'all()' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('priority');
  });

  it('missing required field → names it', async () => {
    const r = await s.call('POST', '/v1/subnets', { body: { name: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('cidr');
  });

  it('semantic validation (model) → field path', async () => {
    const r = await s.call('POST', '/v1/subnets', { body: { name: 'x', cidr: '10.0.0.1/8' } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error.details.field).toBe('cidr');
    const name = await s.call('POST', '/v1/subnets', {
      body: { name: 'Bad Name', cidr: '10.0.0.0/8' },
    });
    expect(name.status).toBe(400);
    expect(name.body.error.details.field).toBe('name');
  });

  it('bad query parameter → 400 naming it', async () => {
    const r = await s.call('GET', '/v1/subnets?limit=lots');
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('limit');
    const unknown = await s.call('GET', '/v1/subnets?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('colour');
  });

  it('too large body → 413 VNP_ERR_BODY_TOO_LARGE', async () => {
    const r = await s.call('POST', '/v1/apply', {
      body: { documents: [{ kind: 'Subnet', name: 'x', cidr: 'y'.repeat(70_000) }] },
    });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('VNP_ERR_BODY_TOO_LARGE');
  });

  it('non-JSON body → 415 VNP_ERR_UNSUPPORTED_MEDIA', async () => {
    const r = await s.call('POST', '/v1/subnets', {
      raw: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('VNP_ERR_UNSUPPORTED_MEDIA');
  });

  it('unknown route → 404 VNP_ERR_ROUTE_NOT_FOUND (with or without token)', async () => {
    for (const as of ['admin', null] as const) {
      const r = await s.call('GET', '/v1/nothing-here', { as });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('VNP_ERR_ROUTE_NOT_FOUND');
    }
    const r = await s.call('GET', '/v1/subnets/a/b');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('VNP_ERR_ROUTE_NOT_FOUND');
  });

  it('known path, wrong method → 405 VNP_ERR_METHOD_NOT_ALLOWED with Allow', async () => {
    const r = await s.call('DELETE', '/v1/settings');
    expect(r.status).toBe(405);
    expect(r.body.error).toMatchObject({
      code: 'VNP_ERR_METHOD_NOT_ALLOWED',
      details: { allowed: ['GET', 'HEAD', 'PUT'] },
    });
    expect(r.headers.allow).toBe('GET, HEAD, PUT');
    const post = await s.call('POST', '/v1/subnets/lan');
    expect(post.status).toBe(405);
  });

  it('every error has the wire shape {error:{code,message,details?}}', async () => {
    const r = await s.call('GET', '/v1/subnets/none');
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(typeof r.body.error.message).toBe('string');
    expect(r.headers['content-type']).toMatch(/application\/json/);
  });
});
