import { defineConfig } from 'vitest/config';

/**
 * Two groups, run one after the other:
 *
 * 1. `unit` — pure, integration (PostgreSQL, each file its own database) and process
 *    tests. They spend most of their time waiting (PGlite, sockets, child processes),
 *    so two files run at once on two cores; Vitest's default on a two-core
 *    machine is one (cores − 1), which left the machine idle most of the run.
 * 2. `kernel` — privileged tests (network namespaces, nftables, OVS) and browser tests.
 *    They share one kernel and measure timing-sensitive things (a deny is a probe that
 *    times out), so they run one file at a time, after the first group has finished.
 */
const timeouts = { testTimeout: 30_000, hookTimeout: 60_000 };
const serial = ['**/*.privileged.test.ts', '**/*.browser.test.ts'];
const all = ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: all,
          exclude: [...serial, '**/node_modules/**'],
          maxWorkers: 2,
          minWorkers: 1,
          sequence: { groupOrder: 0 },
          ...timeouts,
        },
      },
      {
        test: {
          name: 'kernel',
          include: serial,
          exclude: ['**/node_modules/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
    ],
  },
});
