// Entry of `npm run bench`: runs main.ts with vite's module runner (the workspace has no TypeScript
// runner; vite comes with vitest and is pinned in test/package.json).
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

await runnerImport(fileURLToPath(new URL('./main.ts', import.meta.url)), { configFile: false });
