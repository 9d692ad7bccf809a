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
// Say what was skipped and why (a skipped suite names its reason, e.g. the real-cluster suite without
// KUBECONFIG), then close with exactly "N passed, N failed".
const skippedBySuite = new Map();
for (const file of results.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (test.status !== 'pending' && test.status !== 'skipped' && test.status !== 'todo') continue;
    const suite = (test.ancestorTitles ?? []).join(' > ') || file.name;
    skippedBySuite.set(suite, (skippedBySuite.get(suite) ?? 0) + 1);
  }
}
for (const [suite, count] of skippedBySuite) console.log(`skipped ${count}: ${suite}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
