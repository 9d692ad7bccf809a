import { defineConfig } from 'vitest/config';

// Cross-component tests run the built hub and agents as real processes (npm test builds first).
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['contract/**/*.spec.ts', 'e2e/**/*.e2e-spec.ts', 'charts/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file starts its own processes and databases on free ports; two at a time suits 2 cores.
    maxWorkers: 2,
    // After the unit and integration projects, which are faster and fail sooner.
    sequence: { groupOrder: 1 },
  },
});
