/** Group commit on PostgreSQL (skips loudly when unreachable; fails under CI=true). */
import { afterAll, describe } from 'vitest';
import { defineGroupCommitSuite } from './support/group-commit-suite.js';
import { freshDatabase } from './support/test-server.js';

const db = await freshDatabase();

describe.runIf(db !== undefined)('group commit (PostgreSQL)', () => {
  afterAll(async () => {
    await db?.drop();
  });
  defineGroupCommitSuite(() => ({ databaseUrl: db!.url }));
});
