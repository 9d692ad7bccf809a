import { defineConfig } from 'vite';

// Static files served by the hub at / (same origin as /graphql). No inline script or style in the
// output: the hub's Content-Security-Policy allows 'self' only.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    // The module-preload polyfill is an inline script; every browser the dashboard supports has modulepreload.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      onwarn(warning, warn) {
        // React libraries mark modules "use client" for server components; a client-only bundle ignores it.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
