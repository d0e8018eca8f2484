import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COLLECTIONS,
  DB,
  INSTANCE2,
  PARTITION,
  POLICY,
  POLICY_DENY,
  SUBNET,
  WEB,
  body,
} from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

describe('resource CRUD', () => {
  it('creates every kind with POST, reads it back with GET, and lists it', async () => {
    for (const { plural, doc } of COLLECTIONS) {
      const created = await s.call('POST', `/v1/${plural}`, { body: body(doc) });
      expect(created.status, `${plural}: ${created.text}`).toBe(201);
      expect(created.body).toMatchObject({ ...doc });
      expect(created.body.revision).toBe(s.manager.revision);
      expect(typeof created.body.createdAt).toBe('string');
      const got = await s.call('GET', `/v1/${plural}/${doc.name}`, { as: 'viewer' });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created.body);
      const list = await s.call('GET', `/v1/${plural}`, { as: 'viewer' });
      expect(list.status).toBe(200);
      expect(list.body.items.map((d: { name: string }) => d.name)).toContain(doc.name);
    }
  });

  it('refuses POST of an existing name with 409 VNP_ERR_ALREADY_EXISTS and changes nothing', async () => {
    const before = s.manager.revision;
    const r = await s.call('POST', '/v1/subnets', { body: body(SUBNET) });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('VNP_ERR_ALREADY_EXISTS');
    expect(s.manager.revision).toBe(before);
  });

  it('PUT creates (201) or replaces (200); a GET body can be PUT back', async () => {
    const created = await s.call('PUT', '/v1/instances/vm2', { body: body(INSTANCE2) });
    expect(created.status).toBe(201);
    const got = await s.call('GET', '/v1/instances/vm2');
    const replaced = await s.call('PUT', '/v1/instances/vm2', {
      body: { ...got.body, netns: 'ns1' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'vm2', host: 'host-b', netns: 'ns1' });
    expect(replaced.body.revision).toBeGreaterThan(got.body.revision);
  });

  it('PUT refuses a body whose name differs from the path', async () => {
    const r = await s.call('PUT', '/v1/instances/vm2', { body: { name: 'other', host: 'h' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('name');
  });

  it('PATCH applies a JSON merge patch (null removes)', async () => {
    const r = await s.call('PATCH', '/v1/instances/vm2', {
      body: { netns: null, host: 'host-c' },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.host).toBe('host-c');
    expect(r.body.netns).toBeUndefined();
    const missing = await s.call('PATCH', '/v1/instances/nope', { body: { host: 'x' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('VNP_ERR_NOT_FOUND');
    const bad = await s.call('PATCH', '/v1/instances/vm2', { body: { host: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('host');
  });

  it('GET of a missing resource is 404 VNP_ERR_NOT_FOUND', async () => {
    const r = await s.call('GET', '/v1/policies/none');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({
      code: 'VNP_ERR_NOT_FOUND',
      details: { kind: 'Policy', name: 'none' },
    });
  });

  it('paginates lists with limit and after', async () => {
    for (const n of ['a1', 'a2', 'a3']) {
      expect((await s.call('PUT', `/v1/instances/${n}`, { body: { host: 'h' } })).status).toBe(201);
    }
    const names: string[] = [];
    const totals = new Set<number>();
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s.call('GET', `/v1/instances?limit=2${after ? `&after=${after}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      totals.add(r.body.total);
      names.push(...r.body.items.map((d: { name: string }) => d.name));
      after = r.body.next;
      if (!after) break;
    }
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['a1', 'a2', 'a3', 'vm1', 'vm2']));
    expect(new Set(names).size).toBe(names.length);
    // Every page counts the whole list.
    expect([...totals]).toEqual([names.length]);
  });

  it('filters interfaces with ?selector=', async () => {
    expect((await s.call('PUT', '/v1/interfaces/db1', { body: body(DB) })).status).toBe(201);
    const r = await s.call('GET', `/v1/interfaces?selector=${encodeURIComponent('app == "db"')}`, {
      as: 'viewer',
    });
    expect(r.status).toBe(200);
    expect(r.body.items.map((d: { name: string }) => d.name)).toEqual(['db1']);
  });

  it('reports a bad selector with its column', async () => {
    const r = await s.call('GET', `/v1/interfaces?selector=${encodeURIComponent('app == ')}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VNP_ERR_SELECTOR_SYNTAX');
    expect(typeof r.body.error.details.column).toBe('number');
    const onPartition = await s.call('PUT', '/v1/partitions/bad', {
      body: { selector: 'env = "x"' },
    });
    expect(onPartition.status).toBe(400);
    expect(onPartition.body.error.code).toBe('VNP_ERR_SELECTOR_SYNTAX');
    expect(typeof onPartition.body.error.details.column).toBe('number');
  });

  it('refuses ?selector= on kinds other than interfaces', async () => {
    const r = await s.call('GET', '/v1/subnets?selector=all()');
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('selector');
  });

  it('refuses a missing reference (422 VNP_ERR_REFERENCE) and changes nothing', async () => {
    const before = s.manager.revision;
    const r = await s.call('PUT', '/v1/interfaces/x1', {
      body: { subnet: 'nosuch', ips: ['10.9.0.1'], tags: {} },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_REFERENCE');
    expect(s.manager.revision).toBe(before);
    expect((await s.call('GET', '/v1/interfaces/x1')).status).toBe(404);
  });

  it('refuses a duplicate address in a subnet', async () => {
    const r = await s.call('PUT', '/v1/interfaces/x2', {
      body: { subnet: 'lan', ips: [WEB.ips[0]], tags: {} },
    });
    expect([409, 422]).toContain(r.status);
    expect(['VNP_ERR_ADDRESS', 'VNP_ERR_CONFLICT']).toContain(r.body.error.code);
  });

  it('refuses to delete a subnet still referenced, naming the referrers', async () => {
    const r = await s.call('DELETE', '/v1/subnets/lan');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('VNP_ERR_CONFLICT');
    expect(JSON.stringify(r.body.error)).toContain('web1');
    expect((await s.call('GET', '/v1/subnets/lan')).status).toBe(200);
  });

  it('DELETE removes a resource; deleting it again is 404', async () => {
    const r = await s.call('DELETE', '/v1/instances/a3');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      revision: s.manager.revision,
      deleted: { kind: 'Instance', name: 'a3' },
    });
    expect((await s.call('GET', '/v1/instances/a3')).status).toBe(404);
    expect((await s.call('DELETE', '/v1/instances/a3')).status).toBe(404);
  });
});

describe('interface operations', () => {
  it('attaches, moves and detaches a record', async () => {
    const a = await s.call('POST', '/v1/interfaces/web1/attach', {
      as: 'operator',
      body: { instance: 'vm1' },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body.instance).toBe('vm1');
    const moved = await s.call('POST', '/v1/interfaces/web1/attach', {
      as: 'operator',
      body: { instance: 'vm2' },
    });
    expect(moved.body.instance).toBe('vm2');
    const d = await s.call('POST', '/v1/interfaces/web1/detach', { as: 'operator' });
    expect(d.status).toBe(200);
    expect(d.body.instance).toBeUndefined();
  });

  it('refuses to attach to a missing instance', async () => {
    const r = await s.call('POST', '/v1/interfaces/web1/attach', { body: { instance: 'ghost' } });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_REFERENCE');
  });

  it('sets and removes tags', async () => {
    const r = await s.call('PATCH', '/v1/interfaces/web1/tags', {
      as: 'operator',
      body: { set: { tier: 2, owner: { team: 'pay' } }, remove: ['env'] },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.tags).toEqual({ app: 'web', tier: 2, owner: { team: 'pay' } });
    const bad = await s.call('PATCH', '/v1/interfaces/web1/tags', {
      body: { set: { 'bad key': 1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VNP_ERR_TAG_INVALID');
    const clash = await s.call('PATCH', '/v1/interfaces/web1/tags', {
      body: { set: { a: 1 }, remove: ['a'] },
    });
    expect(clash.status).toBe(400);
    const missing = await s.call('PATCH', '/v1/interfaces/ghost/tags', { body: { set: { a: 1 } } });
    expect(missing.status).toBe(404);
  });
});

describe('settings', () => {
  it('has defaults and can be replaced', async () => {
    const r = await s.call('GET', '/v1/settings', { as: 'viewer' });
    expect(r.status).toBe(200);
    expect(r.body.defaults).toEqual({ unpartitioned: 'allow', crossPartition: 'deny' });
    const put = await s.call('PUT', '/v1/settings', {
      body: { defaults: { unpartitioned: 'deny', crossPartition: 'deny' } },
    });
    expect(put.status, put.text).toBe(200);
    expect((await s.call('GET', '/v1/settings')).body.defaults.unpartitioned).toBe('deny');
    const bad = await s.call('PUT', '/v1/settings', {
      body: { defaults: { unpartitioned: 'maybe' } },
    });
    expect(bad.status).toBe(400);
    await s.call('PUT', '/v1/settings', {
      body: { defaults: { unpartitioned: 'allow', crossPartition: 'deny' } },
    });
  });
});

describe('check and policy-for-tags', () => {
  it('judges a flow and explains it', async () => {
    await s.call('PUT', '/v1/partitions/prod', { body: body(PARTITION) });
    await s.call('PUT', '/v1/policies/db-in', { body: body(POLICY) });
    await s.call('PUT', '/v1/policies/db-deny', { body: body(POLICY_DENY) });
    await s.call('PUT', '/v1/interfaces/web1', { body: body(WEB) });
    const ok = await s.call('POST', '/v1/check', {
      as: 'viewer',
      body: { src: 'web1', dst: 'db1', protocol: 'tcp', port: 5432 },
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.verdict, ok.text).toBe('allow');
    expect(ok.body.ingress.policy).toBe('db-in');
    const no = await s.call('POST', '/v1/check', {
      body: { src: 'web1', dst: '10.0.0.20', protocol: 'tcp', port: 22 },
    });
    expect(no.body.verdict).toBe('deny');
    const unknown = await s.call('POST', '/v1/check', {
      body: { src: 'ghost', dst: 'db1', protocol: 'udp', port: 53 },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('VNP_ERR_UNKNOWN_ENDPOINT');
  });

  it('returns the merged rule set for tags', async () => {
    const r = await s.call('POST', '/v1/policy-for-tags', {
      as: 'viewer',
      body: { tags: { app: 'db', env: 'prod' } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.policies).toContain('db-in');
    expect(r.body.partitions).toContain('prod');
    const bad = await s.call('POST', '/v1/policy-for-tags', { body: { tags: { 'bad key': 1 } } });
    expect(bad.status).toBe(400);
  });
});
