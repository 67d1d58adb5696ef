import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites share one PostgreSQL database and one Redis in the pg run; files run one at a time there.
    fileParallelism: !process.env.PORTCULLIS_DATABASE_URL,
    maxWorkers: 2,
  },
});
