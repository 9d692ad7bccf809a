import { defineConfig } from 'vitest/config';

// One run over every package so that CI gets one result file. Each package keeps its own config.
export default defineConfig({
  test: {
    projects: ['proto', 'hub', 'agent', 'cli', 'web', 'test'],
  },
});
