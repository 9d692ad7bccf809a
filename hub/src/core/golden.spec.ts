import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAppSet } from './app-set/parse-app-set';
import { expandAppSet, type AppExplain } from './expand-app-set';
import { completeGitSnapshot, type GitRepoContents, type GitSnapshot } from './generators/git-snapshot';
import type { ClusterSnapshot } from './generators/param-set';
import type { Issue } from './issues';

/**
 * Golden cases: each folder of test/fixtures holds `app-set.yaml` (input), `clusters.yaml` (the
 * snapshot: a list of `{ name, labels, values }`), optionally `git.yaml` (what Git holds, already
 * resolved: a list of `{ repoURL, revision, commit, files: { path: text } }` or `{ repoURL, revision,
 * error }`) and `expected.yaml`, either the Apps as a list of `{ cluster, app, manifests }` in output
 * order (plus, where given, `explain: { sources, git }`), or `issues:` as a list of `{ code, path }`
 * (compared as a set: parse issues when the document is refused, else expansion issues).
 */
const fixtures = join(__dirname, '../../../test/fixtures');

interface ExpectedApp {
  cluster: string;
  app: string;
  manifests: Record<string, unknown>[];
  explain?: Pick<AppExplain, 'sources' | 'git'>;
}

/** The snapshot a service would have read from `git.yaml` (nothing when the fixture has none). */
function gitSnapshot(name: string): GitSnapshot {
  if (!existsSync(join(fixtures, name, 'git.yaml'))) return completeGitSnapshot([]);
  return completeGitSnapshot(read(name, 'git.yaml') as GitRepoContents[]);
}

const cases = readdirSync(fixtures, { withFileTypes: true })
  // test/fixtures/charts holds Helm charts the Helm integration tests package, not a golden case.
  // test/fixtures/kustomize-* are Kustomize repositories the kustomize integration tests commit.
  .filter((entry) => entry.isDirectory() && entry.name !== 'charts' && !entry.name.startsWith('kustomize-'))
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
    const git = gitSnapshot(name);
    const expansion = parsed.ok ? expandAppSet(parsed.value, clusters, undefined, { git }) : undefined;
    // The fixture's Git snapshot is complete: nothing may be left to read.
    expect(expansion?.needs ?? []).toEqual([]);
    const issues = expansion ? expansion.issues : parsed.ok ? [] : parsed.issues;
    if (!Array.isArray(expected)) {
      expect(codesAndPaths(issues)).toEqual(codesAndPaths(expected.issues.map((i) => ({ ...i, message: '' }))));
      return;
    }
    expect(issues).toEqual([]);
    const apps = (expansion?.apps ?? []).map((a, index) => ({
      cluster: a.clusterName,
      app: a.appName,
      manifests: a.manifests,
      ...(expected[index]?.explain ? { explain: { sources: a.explain.sources, git: a.explain.git } } : {}),
    }));
    expect(apps).toEqual(expected);
  });
});
