/** Group commit on PGlite (the same suite runs on PostgreSQL in group-commit.integration.test.ts). */
import { describe } from 'vitest';
import { defineGroupCommitSuite } from './support/group-commit-suite.js';

describe('group commit (PGlite)', () => {
  defineGroupCommitSuite(() => ({}));
});
