import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAppSet } from './app-set/parse-app-set';
import { expandAppSet } from './expand-app-set';
import type { ClusterSnapshot } from './generators/param-set';
import type { Issue } from './issues';

/**
 * Golden cases: each folder of test/fixtures holds `app-set.yaml` (input), `clusters.yaml` (the
 * snapshot: a list of `{ name, labels, values }`) and `expected.yaml`, either the Apps as a list of
 * `{ cluster, app, manifests }` in output order, or `issues:` as a list of `{ code, path }` (compared
 * as a set: parse issues when the document is refused, else expansion issues).
 */
const fixtures = join(__dirname, '../../../test/fixtures');

interface ExpectedApp {
  cluster: string;
  app: string;
  manifests: Record<string, unknown>[];
}

const cases = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function read(name: string, file: string): unknown {
  return parse(readFileSync(join(fixtures, name, file), 'utf8'));
}

function codesAndPaths(issues: readonly Issue[]): { code: string; path: string }[] {
  const unique = new Map(issues.map((i) => [`${i.code}|${i.path}`, { code: i.code, path: i.path }]));
  return [...unique.values()].sort((a, b) => a.path.localeCompare(b.path) || a.code.localeCompare(b.code));
}

describe('golden AppSet expansions (test/fixtures)', () => {
  it('there are fixtures to check', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s', (name) => {
    const parsed = parseAppSet(readFileSync(join(fixtures, name, 'app-set.yaml'), 'utf8'));
    const clusters = read(name, 'clusters.yaml') as ClusterSnapshot[];
    const expected = read(name, 'expected.yaml') as ExpectedApp[] | { issues: { code: string; path: string }[] };
    const issues = parsed.ok ? expandAppSet(parsed.value, clusters).issues : parsed.issues;
    if (!Array.isArray(expected)) {
      expect(codesAndPaths(issues)).toEqual(codesAndPaths(expected.issues.map((i) => ({ ...i, message: '' }))));
      return;
    }
    expect(issues).toEqual([]);
    if (!parsed.ok) return;
    const apps = expandAppSet(parsed.value, clusters).apps.map((a) => ({ cluster: a.clusterName, app: a.appName, manifests: a.manifests }));
    expect(apps).toEqual(expected);
  });
});
