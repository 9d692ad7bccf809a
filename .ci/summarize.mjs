// Prints "N passed, N failed" from vitest's JSON results. Exits 1 when tests failed, none ran, or
// the results are missing (a step before vitest failed: build, lint or a staleness check).
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('no test results: a step before the tests failed (build, lint or generated-code check); see above');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const results = JSON.parse(readFileSync(file, 'utf8'));
const passed = results.numPassedTests ?? 0;
// Files that failed to load count as failures too, so a broken suite cannot pass silently.
const failedFiles = (results.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
let failed = (results.numFailedTests ?? 0) + failedFiles;
// Errors outside any test (unhandled rejections, bad configuration) fail the run as one failure.
if (results.success === false && failed === 0) {
  console.log('the test run reported errors outside tests; see above');
  failed = 1;
}
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
