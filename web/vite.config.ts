import { join } from 'node:path';
import { defineConfig } from 'vite';

// Static files served by the hub at / (same origin as /graphql). No inline script or style in the
// output: the hub's Content-Security-Policy allows 'self' only. Two pages: the dashboard (index.html)
// and GraphiQL (graphiql.html, served at /graphiql); chunks they share, such as React, are built once.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    // GraphiQL's editor (Monaco) is one chunk of ~2.8 MB, loaded by /graphiql only, never by the dashboard.
    chunkSizeWarningLimit: 3_000,
    // The module-preload polyfill is an inline script; every browser the dashboard supports has modulepreload.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        index: join(import.meta.dirname, 'index.html'),
        graphiql: join(import.meta.dirname, 'graphiql.html'),
      },
      onwarn(warning, warn) {
        // React libraries mark modules "use client" for server components; a client-only bundle ignores it.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
