import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/server/auth.js';
import { INSTANCE, SUBNET, WEB, body } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  for (const doc of [SUBNET, INSTANCE, WEB]) {
    const r = await s.call(
      'POST',
      `/v1/${doc.kind === 'Subnet' ? 'subnets' : doc.kind === 'Instance' ? 'instances' : 'interfaces'}`,
      { body: body(doc) },
    );
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await s?.close();
});

type Level = 'read' | 'operate' | 'admin' | 'agent';
const ALLOWED: Record<Level, Role[]> = {
  read: ['viewer', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  admin: ['admin'],
  agent: ['viewer', 'operator', 'admin', 'agent'],
};

/** Every /v1 route and the level it needs. Bodies are valid-ish: we only assert 401/403 vs not. */
const MATRIX: [string, string, Level, unknown?][] = [
  ['GET', '/v1/subnets', 'read'],
  ['GET', '/v1/subnets/lan', 'read'],
  ['GET', '/v1/instances', 'read'],
  ['GET', '/v1/interfaces', 'read'],
  ['GET', '/v1/partitions', 'read'],
  ['GET', '/v1/policies', 'read'],
  ['GET', '/v1/reactions', 'read'],
  ['GET', '/v1/settings', 'read'],
  ['POST', '/v1/check', 'read', { src: 'web1', dst: '10.0.0.99' }],
  ['POST', '/v1/policy-for-tags', 'read', { tags: { app: 'web' } }],
  ['GET', '/v1/peps', 'agent'],
  ['PATCH', '/v1/interfaces/web1/tags', 'operate', { set: { seen: true } }],
  ['POST', '/v1/interfaces/web1/attach', 'operate', { instance: 'vm1' }],
  ['POST', '/v1/interfaces/web1/detach', 'operate'],
  ['POST', '/v1/subnets', 'admin', { name: 'new', cidr: '10.7.0.0/24' }],
  ['PUT', '/v1/instances/vmx', 'admin', { host: 'h' }],
  ['PATCH', '/v1/instances/vm1', 'admin', { netns: 'n' }],
  ['DELETE', '/v1/partitions/none', 'admin'],
  [
    'PUT',
    '/v1/settings',
    'admin',
    { defaults: { unpartitioned: 'allow', crossPartition: 'deny' } },
  ],
  ['POST', '/v1/apply', 'admin', { documents: [], dryRun: true }],
  ['GET', '/v1/audit', 'admin'],
  ['GET', '/v1/tokens', 'admin'],
  ['POST', '/v1/tokens', 'admin', { role: 'viewer' }],
  ['DELETE', '/v1/tokens/0000', 'admin'],
];

describe('authentication', () => {
  it.each(MATRIX.map(([m, u]) => [m, u]))('%s %s needs a token', async (method, url) => {
    const r = await s.call(method, url, { as: null });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('VNP_ERR_UNAUTHENTICATED');
  });

  it.each([
    ['Bearer nonsense'],
    ['Bearer vnp_0123456789abcdef_wrongsecret'],
    ['Basic YWRtaW46YWRtaW4='],
    ['Bearer'],
  ])('refuses Authorization: %s', async (authorization) => {
    const r = await s.call('GET', '/v1/subnets', { authorization });
    expect(r.status).toBe(401);
  });

  it('refuses a right id with a wrong secret', async () => {
    const r = await s.call('GET', '/v1/subnets', {
      authorization: `Bearer vnp_${s.tokenIds.admin}_notthesecret`,
    });
    expect(r.status).toBe(401);
  });

  it('leaves /healthz, /readyz, /openapi.json public; /metrics needs a viewer token', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json']) {
      expect((await s.call('GET', url, { as: null })).status, url).toBe(200);
    }
    expect((await s.call('GET', '/metrics', { as: null })).status).toBe(401);
    expect((await s.call('GET', '/metrics', { as: 'agent' })).status).toBe(403);
    expect((await s.call('GET', '/metrics', { as: 'viewer' })).status).toBe(200);
  });
});

describe('role × endpoint matrix', () => {
  const cases = MATRIX.flatMap(([method, url, level, payload]) =>
    (['admin', 'operator', 'viewer', 'agent'] as const).map(
      (role) => [method, url, role, ALLOWED[level].includes(role), payload] as const,
    ),
  );
  it.each(cases)('%s %s as %s → allowed=%s', async (method, url, role, allowed, payload) => {
    const r = await s.call(method, url, {
      as: role,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    if (allowed) {
      expect([401, 403], `${r.status} ${r.text}`).not.toContain(r.status);
      expect(r.status).toBeLessThan(500);
    } else {
      expect(r.status, r.text).toBe(403);
      expect(r.body.error.code).toBe('VNP_ERR_FORBIDDEN');
    }
  });
});

describe('tokens', () => {
  it('creates a token whose secret works once shown, lists without secrets, revokes', async () => {
    const created = await s.call('POST', '/v1/tokens', { body: { role: 'viewer' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(new RegExp(`^vnp_${created.body.id}_`));
    const viewer = await s.call('GET', '/v1/subnets', {
      authorization: `Bearer ${created.body.token}`,
    });
    expect(viewer.status).toBe(200);

    const list = await s.call('GET', '/v1/tokens');
    expect(list.status).toBe(200);
    const row = list.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(row).toMatchObject({
      id: created.body.id,
      role: 'viewer',
      createdBy: `admin:${s.tokenIds.admin}`,
    });
    expect(list.text).not.toContain(created.body.token.split('_')[2]);
    expect(list.text).not.toContain('scrypt');

    const del = await s.call('DELETE', `/v1/tokens/${created.body.id}`);
    expect(del.status).toBe(200);
    const after = await s.call('GET', '/v1/subnets', {
      authorization: `Bearer ${created.body.token}`,
    });
    expect(after.status).toBe(401);
    expect((await s.call('DELETE', '/v1/tokens/ffff')).status).toBe(404);
  });

  it('binds agent tokens to a host and only agent tokens', async () => {
    expect((await s.call('POST', '/v1/tokens', { body: { role: 'agent' } })).status).toBe(400);
    expect(
      (await s.call('POST', '/v1/tokens', { body: { role: 'viewer', host: 'h' } })).status,
    ).toBe(400);
    const ok = await s.call('POST', '/v1/tokens', { body: { role: 'agent', host: 'host-z' } });
    expect(ok.status).toBe(201);
    expect(ok.body.host).toBe('host-z');
    expect((await s.call('POST', '/v1/tokens', { body: { role: 'root' } })).status).toBe(400);
  });

  it('audits token creation and revocation without the secret', async () => {
    const created = await s.call('POST', '/v1/tokens', { body: { role: 'operator' } });
    await s.call('DELETE', `/v1/tokens/${created.body.id}`);
    const audit = await s.call('GET', '/v1/audit?limit=2');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      `token.revoke id=${created.body.id} role=operator`,
      `token.create id=${created.body.id} role=operator`,
    ]);
    expect(audit.text).not.toContain(created.body.token);
    expect(audit.body.items[0].actor).toBe(`admin:${s.tokenIds.admin}`);
  });
});
