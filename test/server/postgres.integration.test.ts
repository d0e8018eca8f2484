import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, SUBNET, body } from './support/fixtures.js';
import { freshDatabase, startTestServer, type TestServer } from './support/test-server.js';

const db = await freshDatabase();

describe.runIf(db !== undefined)('manager on PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer({ databaseUrl: db!.url });
    b = await startTestServer({ databaseUrl: db!.url, tokens: a.tokens, tokenIds: a.tokenIds });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('serves the API like the embedded store', async () => {
    const r = await a.call('POST', '/v1/apply', { body: { documents: MODEL } });
    expect(r.status, r.text).toBe(200);
    expect((await a.call('GET', '/readyz', { as: null })).body.backend).toBe('postgres');
    expect((await a.call('POST', '/v1/subnets', { body: body(SUBNET) })).body.error.code).toBe(
      'VNP_ERR_ALREADY_EXISTS',
    );
  });

  it("a second manager follows the first one's commits (LISTEN/NOTIFY + change log)", async () => {
    const w = await a.call('PATCH', '/v1/interfaces/web1/tags', {
      as: 'operator',
      body: { set: { seenBy: 'b' } },
    });
    expect(w.status).toBe(200);
    await until(() => b.manager.revision === w.body.revision);
    const got = await b.call('GET', '/v1/interfaces/web1', { as: 'viewer' });
    expect(got.body.tags.seenBy).toBe('b');
  });

  it('writes through either manager; a stale one catches up and retries', async () => {
    // Make b stale on purpose: write through the store behind both managers' backs.
    await a.manager.store.commit({
      baseRevision: await a.manager.store.revision(),
      actor: 'test',
      action: 'behind the back',
      puts: [{ kind: 'Instance', name: 'sneaky', host: 'h' }],
      deletes: [],
      at: new Date().toISOString(),
    });
    const w = await b.call('PUT', '/v1/instances/from-b', { body: { host: 'h' } });
    expect(w.status, w.text).toBe(201);
    await until(() => a.manager.revision === w.body.revision);
    expect((await a.call('GET', '/v1/instances/from-b')).status).toBe(200);
    expect((await b.call('GET', '/v1/instances/sneaky')).status).toBe(200);
  });

  it('tokens created on one manager work on the other', async () => {
    const t = await a.call('POST', '/v1/tokens', { body: { role: 'viewer' } });
    const r = await b.call('GET', '/v1/subnets', { authorization: `Bearer ${t.body.token}` });
    expect(r.status).toBe(200);
  });
});
