import { defineConfig } from 'vitest/config';

/**
 * Two groups, run at the same time (docs/adr/0067-ci-time.md):
 *
 * 1. `unit` — pure, integration (PostgreSQL, each file its own database) and process
 *    tests, one file at a time in a child process.
 * 2. `kernel` — privileged tests (network namespaces, nftables, OVS) and browser tests,
 *    one file at a time on a worker thread. They share one kernel and measure
 *    timing-sensitive things (a deny is a probe that times out), so never two at once;
 *    they mostly wait on the kernel and child processes, so they run beside `unit`
 *    instead of after it.
 *
 * Vitest 3 sizes each pool from the root options only (a project's maxWorkers or
 * fileParallelism is not read by the pool), so each group has a pool of its own,
 * sized here. Two unit files at a time as well (maxForks: 2) was tried in one full run
 * at load ~15 from other work: it ended with Vitest's "Timeout calling onTaskUpdate" (a
 * worker's call unanswered for 60 s, an unhandled error that fails the run), a worker
 * or Vitest itself starved of CPU.
 *
 * The global setup builds the pre-initialised database that tests' PGlite stores are
 * copied from (test/support/pglite-seed-setup.ts).
 */
// Tests share the two cores with each other and the kernel tests: in the full run of
// ADR 0067 (load ~15) two CPU-bound random tests ran past 30 s.
const timeouts = { testTimeout: 60_000, hookTimeout: 60_000 };
const serial = ['**/*.privileged.test.ts', '**/*.browser.test.ts'];
const all = ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default'],
    globalSetup: ['test/support/pglite-seed-setup.ts'],
    poolOptions: {
      forks: { maxForks: 1, minForks: 1 },
      threads: { maxThreads: 1, minThreads: 1 },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: all,
          exclude: [...serial, '**/node_modules/**'],
          pool: 'forks',
          ...timeouts,
        },
      },
      {
        test: {
          name: 'kernel',
          include: serial,
          exclude: ['**/node_modules/**'],
          pool: 'threads',
          ...timeouts,
        },
      },
    ],
  },
});
