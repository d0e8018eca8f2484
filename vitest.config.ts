import { defineConfig } from 'vitest/config';

// Privileged tests build network namespaces and share one kernel: run test files
// one at a time in CI to keep namespaces, nft tables and ports from colliding.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
