import { defineConfig } from 'vitest/config';

/**
 * Three tiers. `unit`: pure logic, fakes allowed, no services. `integration` and `e2e`: the real
 * Kafka, Redis, PostgreSQL and EVM node of the local stack (`claimtrail stack up`), each test on
 * its own topics / queue names / schema. Integration files run one at a time: two cores.
 * `faults`: the fault-injection, restart and soak smokes (real stack too). They spend most of their
 * time waiting on child processes, restarts and a steady producer, so they run in a second fork
 * beside `integration` instead of after it.
 */
const SLOW_SMOKES = ['tests/integration/faults-*.test.ts', 'tests/integration/soak-smoke.test.ts'];

/** Settings of the projects on the real stack: one file at a time per project, stack up first. */
const REAL_STACK = {
  environment: 'node',
  testTimeout: 120_000,
  hookTimeout: 300_000,
  pool: 'forks' as const,
  poolOptions: { forks: { singleFork: true } },
  globalSetup: ['tests/setup/stack.global.ts'],
  // The local stack's generated dev keys stand in for unset keys (cli/dev-sources.ts); children
  // the tests spawn inherit it.
  env: { CLAIMTRAIL_DEV_KEYS: '1' },
};

export default defineConfig({
  test: {
    // The JSON report feeds .ci/run's closing "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.state/reports/vitest.json' }]],
    // kafkajs 2.2.4 arms a negative timer on Node >= 24 (tulios/kafkajs#1751): harmless noise.
    poolOptions: { forks: { execArgv: ['--disable-warning=TimeoutNegativeWarning'] } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests run thousands of cases; on a loaded 2-core machine 5 s is too tight.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          exclude: SLOW_SMOKES,
          ...REAL_STACK,
        },
      },
      {
        test: {
          name: 'faults',
          include: SLOW_SMOKES,
          ...REAL_STACK,
        },
      },
    ],
  },
});
