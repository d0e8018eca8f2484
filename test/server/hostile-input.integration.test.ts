/** Hostile input on PostgreSQL (skips loudly without it; fails under CI=true). */
import { afterAll, beforeAll, describe } from 'vitest';
import { describeHostileInput } from './support/hostile-input.js';
import { freshDatabase, startTestServer, type TestServer } from './support/test-server.js';

const db = await freshDatabase();

describe.skipIf(!db)('on PostgreSQL', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ databaseUrl: db!.url });
  });
  afterAll(async () => {
    await s?.close();
    await db?.drop();
  });
  describeHostileInput(() => s);
});
