import { describe } from 'vitest';
import { defineTokenLifecycle } from './support/token-lifecycle-cases.js';

describe('token lifecycle (PGlite)', () => {
  defineTokenLifecycle(() => ({}));
});
