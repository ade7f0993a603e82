import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,integration,e2e}/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real onnxruntime sessions, a real SQLite file and a real browser per file: two cores, so keep it modest.
    maxWorkers: 2,
  },
});
