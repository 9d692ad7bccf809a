import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Test against proto's sources, so that a proto change needs no build before agent tests.
    alias: [
      { find: /^@flotilla\/proto$/, replacement: fileURLToPath(new URL('../proto/src/index.ts', import.meta.url)) },
      { find: /^@flotilla\/proto\/grpc$/, replacement: fileURLToPath(new URL('../proto/src/grpc.ts', import.meta.url)) },
    ],
  },
  test: {
    name: 'agent',
    include: ['src/**/*.spec.ts', 'test/**/*.int-spec.ts'],
  },
});
