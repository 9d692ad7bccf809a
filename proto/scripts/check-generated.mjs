// Fails when proto/gen/ is stale: regenerates into a scratch folder and compares byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'proto-gen-'));
try {
  execFileSync('npx', ['buf', 'generate', '--output', scratch], { cwd: root, stdio: 'inherit' });
  const want = listFiles(join(scratch, 'gen'));
  const have = listFiles(join(root, 'gen'));
  const problems = [];
  for (const file of new Set([...want.keys(), ...have.keys()])) {
    if (!have.has(file)) problems.push(`missing from gen/: ${file}`);
    else if (!want.has(file)) problems.push(`not generated from any proto: gen/${file}`);
    else if (want.get(file) !== have.get(file)) problems.push(`stale: gen/${file}`);
  }
  if (problems.length > 0) {
    console.error(`proto/gen is out of date; run \`npm run generate -w proto\` and commit:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`proto/gen is up to date (${have.size} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function listFiles(dir, base = dir, out = new Map()) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(path, base, out);
    else out.set(relative(base, path), readFileSync(path, 'utf8'));
  }
  return out;
}
