import { defineConfig } from 'vitest/config';

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
          // Real brokers and processes: one file at a time, each owning its topics and groups.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
