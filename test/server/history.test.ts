import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/store/types.js';
import { INSTANCE, PARTITION, SUBNET, WEB, body } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
beforeAll(async () => {
  s = await startTestServer();
  url = await s.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await s?.close();
});

describe('audit log', () => {
  it('records every mutation with actor, action and before/after', async () => {
    const steps: [string, string, unknown, string, string][] = [
      ['POST', '/v1/subnets', body(SUBNET), 'admin', 'create Subnet/lan'],
      ['PUT', '/v1/instances/vm1', body(INSTANCE), 'admin', 'put Instance/vm1'],
      ['POST', '/v1/interfaces', body(WEB), 'admin', 'create Interface/web1'],
      ['PATCH', '/v1/instances/vm1', { netns: 'ns1' }, 'admin', 'patch Instance/vm1'],
      ['PATCH', '/v1/interfaces/web1/tags', { set: { tier: 1 } }, 'operator', 'tag Interface/web1'],
      [
        'POST',
        '/v1/interfaces/web1/attach',
        { instance: 'vm1' },
        'operator',
        'attach Interface/web1',
      ],
      ['POST', '/v1/interfaces/web1/detach', undefined, 'operator', 'detach Interface/web1'],
      [
        'PUT',
        '/v1/settings',
        { defaults: { unpartitioned: 'deny', crossPartition: 'deny' } },
        'admin',
        'put Settings/default',
      ],
      ['POST', '/v1/apply', { documents: [PARTITION] }, 'admin', 'apply 1 document(s)'],
      ['DELETE', '/v1/partitions/prod', undefined, 'admin', 'delete Partition/prod'],
    ];
    for (const [method, path, payload, role, action] of steps) {
      const r = await s.call(method, path, {
        as: role as 'admin',
        ...(payload !== undefined ? { body: payload } : {}),
      });
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(300);
      const audit = await s.call('GET', '/v1/audit?limit=1');
      const entry = audit.body.items[0] as ChangeRecord;
      expect(entry.action).toBe(action);
      expect(entry.actor).toBe(`${role}:${s.tokenIds[role as 'admin']}`);
      expect(entry.revision).toBe(s.manager.revision);
    }
    const patch = (await s.call('GET', '/v1/audit?kind=Instance&name=vm1&limit=1')).body
      .items[0] as ChangeRecord;
    expect(patch.changes[0]!.before).toMatchObject({ name: 'vm1', host: 'host-a' });
    expect(patch.changes[0]!.before).not.toHaveProperty('netns');
    expect(patch.changes[0]!.after).toMatchObject({ netns: 'ns1' });
  });

  it('does not audit refused writes', async () => {
    const before = (await s.call('GET', '/v1/audit?limit=1')).body.items[0].revision;
    await s.call('POST', '/v1/subnets', { body: body(SUBNET) });
    await s.call('DELETE', '/v1/subnets/lan');
    expect((await s.call('GET', '/v1/audit?limit=1')).body.items[0].revision).toBe(before);
  });

  it('filters by since and validates kind', async () => {
    const since = s.manager.revision - 2;
    const r = await s.call('GET', `/v1/audit?since=${since}`);
    expect(r.body.items.every((e: ChangeRecord) => e.revision > since)).toBe(true);
    expect((await s.call('GET', '/v1/audit?kind=Gadget')).status).toBe(400);
  });
});

/** Read NDJSON lines from a streaming response until `n` records arrived. */
async function readRecords(res: Response, n: number): Promise<ChangeRecord[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const out: ChangeRecord[] = [];
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') out.push(JSON.parse(line) as ChangeRecord);
    }
  }
  await reader.cancel();
  return out;
}

describe('GET /v1/watch', () => {
  it('replays the log after `since`, then streams live changes', async () => {
    const since = s.manager.revision - 2;
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/watch?since=${since}`, {
      headers: { authorization: `Bearer ${s.tokens.viewer}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const reading = readRecords(res, 4);
    const live1 = await s.call('PATCH', '/v1/interfaces/web1/tags', {
      as: 'operator',
      body: { set: { live: 1 } },
    });
    const live2 = await s.call('PATCH', '/v1/interfaces/web1/tags', {
      as: 'operator',
      body: { set: { live: 2 } },
    });
    const records = await reading;
    controller.abort();
    expect(records.map((r) => r.revision)).toEqual([
      since + 1,
      since + 2,
      live1.body.revision,
      live2.body.revision,
    ]);
    expect(records[3]!.changes[0]!.after).toMatchObject({ tags: { live: 2 } });
  });

  it('defaults to now (live only)', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/watch`, {
      headers: { authorization: `Bearer ${s.tokens.admin}` },
      signal: controller.signal,
    });
    const reading = readRecords(res, 1);
    const w = await s.call('PATCH', '/v1/interfaces/web1/tags', { body: { set: { live: 3 } } });
    const [record] = await reading;
    controller.abort();
    expect(record!.revision).toBe(w.body.revision);
  });

  it('needs a token and validates since', async () => {
    expect((await fetch(`${url}/v1/watch`)).status).toBe(401);
    const bad = await fetch(`${url}/v1/watch?since=-1`, {
      headers: { authorization: `Bearer ${s.tokens.admin}` },
    });
    expect(bad.status).toBe(400);
  });
});

describe('watch history bounds', () => {
  it('answers 410 VNP_ERR_HISTORY_GONE when since is older than the retained log', async () => {
    const orig = s.store.oldestRevision.bind(s.store);
    const oldest = s.manager.revision;
    s.store.oldestRevision = async () => oldest;
    try {
      const r = await s.call('GET', `/v1/watch?since=${oldest - 2}`);
      expect(r.status).toBe(410);
      expect(r.body.error).toMatchObject({
        code: 'VNP_ERR_HISTORY_GONE',
        details: { field: 'since', oldest },
      });
    } finally {
      s.store.oldestRevision = orig;
    }
  });
});

describe('write serialization', () => {
  it('loses no concurrent tag change', async () => {
    const rev = s.manager.revision;
    const writes = Array.from({ length: 20 }, (_, i) =>
      s.call('PATCH', '/v1/interfaces/web1/tags', {
        as: 'operator',
        body: { set: { [`c${i}`]: i } },
      }),
    );
    const results = await Promise.all(writes);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => r.body.revision)).size).toBe(20);
    expect(s.manager.revision).toBe(rev + 20);
    const tags = (await s.call('GET', '/v1/interfaces/web1')).body.tags;
    for (let i = 0; i < 20; i++) expect(tags[`c${i}`]).toBe(i);
  });
});
