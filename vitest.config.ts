import { defineConfig } from 'vitest/config';

/**
 * The long fault runs (broker outages, SIGKILL loops, exactly-once kill and fencing tests: about 8
 * minutes here) are their own project, `slow`: `npm test` keeps to the rest, and `.ci/run` runs
 * `npm run test:slow` after it.
 */
const SLOW = ['test/integration/faults.int.test.ts', 'test/integration/exactly-once.int.test.ts'];

export default defineConfig({
  test: {
    // The default, stated so nobody turns it off: an unhandled rejection or uncaught exception in a
    // test process fails the run (the daemon's own process guard logs and goes on; tests must not).
    dangerouslyIgnoreUnhandledErrors: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'chart',
          include: ['test/chart/**/*.test.ts'],
          // Builds tools/helm-render once (Go, about 2 minutes of CPU on a fresh machine; cached afterwards).
          globalSetup: ['test/chart/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          exclude: SLOW,
          // Real brokers and processes: one file at a time, each owning its topics and groups.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'slow',
          include: SLOW,
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
