import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The robustness suite has its own config and script (`npm run test:robust`).
    exclude: [...configDefaults.exclude, 'test/robust/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites share one PostgreSQL database and one Redis in the pg run; files run one at a time there.
    fileParallelism: !process.env.PORTCULLIS_DATABASE_URL,
    maxWorkers: 2,
  },
});
