import { defineConfig } from 'vitest/config';

// Unit specs of the dashboard's pure parts; the pages themselves are tested in a browser (test/e2e/dashboard.e2e-spec.ts).
export default defineConfig({
  test: {
    name: 'web',
    include: ['src/**/*.spec.ts'],
  },
});
