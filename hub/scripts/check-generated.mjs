// Fails when committed generated files are stale: migrations vs entities, and schema.gql vs resolvers.
import { execFileSync } from 'node:child_process';

const run = (script, ...args) => execFileSync(process.execPath, [new URL(script, import.meta.url).pathname, ...args], { stdio: 'inherit' });
run('./generate-migration.mjs', '--check');
run('./emit-schema.mjs', '--check');
