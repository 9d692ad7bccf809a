import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Nest's dependency injection reads decorator metadata, which esbuild does not emit: SWC does.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      { find: /^@flotilla\/proto$/, replacement: fileURLToPath(new URL('../proto/src/index.ts', import.meta.url)) },
      { find: /^@flotilla\/proto\/grpc$/, replacement: fileURLToPath(new URL('../proto/src/grpc.ts', import.meta.url)) },
    ],
  },
  test: {
    name: 'hub',
    include: ['src/**/*.spec.ts', 'test/**/*.int-spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
