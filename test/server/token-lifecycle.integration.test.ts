import { afterAll, describe } from 'vitest';
import { defineTokenLifecycle } from './support/token-lifecycle-cases.js';
import { freshDatabase } from './support/test-server.js';

const db = await freshDatabase();
afterAll(async () => {
  await db?.drop();
});

describe.runIf(db !== undefined)('token lifecycle (PostgreSQL)', () => {
  defineTokenLifecycle(() => ({ databaseUrl: db!.url }));
});
