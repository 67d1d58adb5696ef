import { defineConfig } from 'vitest/config';

/** `npm run test:robust`: fuzzing, load, crash, database faults, several instances (test/robust). */
export default defineConfig({
  test: {
    include: ['test/robust/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each file starts servers and measures them: one at a time keeps the measurements honest.
    fileParallelism: false,
    // Files in a random order (each starts its own servers); tests keep their order inside a file,
    // where a scenario's last step checks what the earlier ones left (fuzz: still healthy after).
    sequence: { shuffle: { files: true, tests: false } },
  },
});
