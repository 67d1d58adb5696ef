import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // packages/*/test: the workspace packages' own tests (the typed client against a live server).
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // The robustness suite has its own config and script (`npm run test:robust`).
    exclude: [...configDefaults.exclude, 'test/robust/**'],
    // The web console's tests serve web/dist: build it once when it is missing or stale.
    globalSetup: ['test/helpers/web-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites share one PostgreSQL database and one Redis in the pg run; files run one at a time there.
    fileParallelism: !process.env.PORTCULLIS_DATABASE_URL,
    maxWorkers: 2,
    // Files and the tests inside each file run in a random order, so that no test leans on another
    // having run first. The seed is printed at the start ("Running tests with seed …"); replay an
    // order with `npx vitest run --sequence.seed=<seed>` (.ci/run: TEST_SEED=<seed>).
    sequence: { shuffle: { files: true, tests: true } },
  },
});
