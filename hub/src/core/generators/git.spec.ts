import { describe, expect, it } from 'vitest';
import type { AppSetDocument, GeneratorSpec, GitGeneratorSpec } from '../app-set/app-set-spec';
import { DEFAULT_EXPANSION_LIMITS, expandAppSet, type ExpansionLimits } from '../expand-app-set';
import { completeGitSnapshot, EMPTY_GIT_SNAPSHOT, gitFileKey, type GitRepoContents, type GitSnapshot } from './git-snapshot';
import { normalizeName } from '../render/filters';
import type { ClusterSnapshot } from './param-set';

const REPO = 'https://git.example.com/fleet.git';
const COMMIT = 'c'.repeat(40);
const clusters: ClusterSnapshot[] = [
  { name: 'eu-1', labels: { region: 'eu' }, values: {} },
  { name: 'us-1', labels: { region: 'us' }, values: {} },
];

function repo(files: Record<string, string>, revision = 'main', commit = COMMIT): GitRepoContents {
  return { repoURL: REPO, revision, commit, files };
}

function appSet(generators: GeneratorSpec[], data: Record<string, string>, name = 'web-{{ cluster.name }}'): AppSetDocument {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'AppSet',
    metadata: { name: 'web' },
    spec: { generators, template: { name, manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data }] } },
  };
}

/** A matrix of the git generator × every cluster, so that git sets without a target still make Apps. */
function timesClusters(git: GitGeneratorSpec): GeneratorSpec[] {
  return [{ matrix: { generators: [{ git }, { clusters: {} }] } }];
}

function expand(document: AppSetDocument, git: GitSnapshot, limits: ExpansionLimits = DEFAULT_EXPANSION_LIMITS) {
  return expandAppSet(document, clusters, limits, { git });
}

const data = (app: { manifests: readonly Record<string, unknown>[] }) => app.manifests[0]!['data'];

describe('git generator: directories', () => {
  const files = {
    'apps/web/kustomization.yaml': '',
    'apps/api/values.yaml': '',
    'apps/api/nested/values.yaml': '',
    'apps/.hidden/values.yaml': '',
    'apps/legacy/values.yaml': '',
    'README.md': '',
  };

  it('yields one set per matching directory, sorted, with the Argo CD path parameters', () => {
    const doc = appSet(timesClusters({ repoURL: REPO, revision: 'main', directories: [{ path: 'apps/*' }] }), {
      path: '{{ path.path }}',
      base: '{{ path.basename }}',
      first: '{{ path[0] }}',
      last: '{{ path.segments[1] }}',
    }, '{{ path.basename }}-{{ cluster.name }}');
    const result = expand(doc, completeGitSnapshot([repo(files)]));
    expect(result.issues).toEqual([]);
    expect(result.apps.filter((a) => a.clusterName === 'eu-1').map((a) => [a.appName, data(a)])).toEqual([
      ['api-eu-1', { path: 'apps/api', base: 'api', first: 'apps', last: 'api' }],
      ['legacy-eu-1', { path: 'apps/legacy', base: 'legacy', first: 'apps', last: 'legacy' }],
      ['web-eu-1', { path: 'apps/web', base: 'web', first: 'apps', last: 'web' }],
    ]);
  });

  it('an exclude wins over an include whatever their order', () => {
    for (const directories of [
      [{ path: 'apps/legacy', exclude: true }, { path: 'apps/*' }],
      [{ path: 'apps/*' }, { path: 'apps/legacy', exclude: true }],
    ]) {
      const result = expand(appSet(timesClusters({ repoURL: REPO, revision: 'main', directories }), { p: '{{ path.path }}' }, '{{ path.basename }}-{{ cluster.name }}'), completeGitSnapshot([repo(files)]));
      expect(result.apps.filter((a) => a.clusterName === 'eu-1').map((a) => a.appName)).toEqual(['api-eu-1', 'web-eu-1']);
    }
  });

  it('** crosses path segments (and matches its own directory), and names starting with a dot never match a wildcard', () => {
    const paths = expand(appSet(timesClusters({ repoURL: REPO, revision: 'main', directories: [{ path: 'apps/**' }] }), { p: '{{ path.path }}' }, '{{ path.path | replace: "/", "-" }}-{{ cluster.name }}'), completeGitSnapshot([repo(files)]));
    expect(paths.apps.filter((a) => a.clusterName === 'eu-1').map((a) => (data(a) as { p: string }).p).sort()).toEqual(['apps', 'apps/api', 'apps/api/nested', 'apps/legacy', 'apps/web']);
  });
});

describe('git generator: files', () => {
  it('an object file is one set whose nested keys are objects, and its cluster key names the target', () => {
    const snapshot = completeGitSnapshot([repo({ 'envs/eu/config.yaml': 'cluster: eu-1\nimage: { tag: "1.2" }\nreplicas: 3\n' })]);
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: 'envs/*/config.yaml' }] } }], {
      tag: '{{ image.tag }}',
      file: '{{ path.filename }}',
      dir: '{{ path.path }}',
    });
    const result = expand(doc, snapshot);
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.clusterName, data(a)])).toEqual([['eu-1', { tag: '1.2', file: 'config.yaml', dir: 'envs/eu' }]]);
  });

  it('a list document and several documents yield one set each, named file#n', () => {
    const snapshot = completeGitSnapshot([repo({ 'all.yaml': '- { cluster: eu-1, n: 1 }\n---\n{ cluster: us-1, n: 2 }\n' })]);
    const result = expand(appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: 'all.yaml' }] } }], { n: '{{ n }}' }), snapshot);
    expect(result.apps.map((a) => [a.clusterName, a.explain.sources[0]!.element])).toEqual([
      ['eu-1', 'all.yaml#0'],
      ['us-1', 'all.yaml#1'],
    ]);
  });

  it('pathParamPrefix moves the path parameters, so a file may have its own path key', () => {
    const snapshot = completeGitSnapshot([repo({ 'a/config.json': '{ "cluster": "eu-1", "path": "/srv" }' })]);
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: 'a/*.json' }], pathParamPrefix: 'git' } }], { own: '{{ path }}', dir: '{{ git.path.path }}' });
    expect(expand(doc, snapshot).apps.map(data)).toEqual([{ own: '/srv', dir: 'a' }]);
  });

  it('a file defining the path key without a prefix is an issue, not a silent overwrite', () => {
    const snapshot = completeGitSnapshot([repo({ 'a/config.json': '{ "cluster": "eu-1", "path": "/srv" }' })]);
    const result = expand(appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: 'a/*.json' }] } }], {}), snapshot);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'RESERVED_PARAMETER', path: 'spec.generators[0].git[a/config.json]' })]);
  });

  it('values are rendered over the set parameters', () => {
    const snapshot = completeGitSnapshot([repo({ 'team_a/config.yaml': 'cluster: us-1' })]);
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: '*/config.yaml' }], values: { ns: '{{ path.basenameNormalized }}-{{ cluster.name }}' } } }], { ns: '{{ values.ns }}' });
    expect(expand(doc, snapshot).apps.map(data)).toEqual([{ ns: 'team-a-us-1' }]);
  });

  it('as a later matrix child, the globs and revision are rendered over the earlier parameters', () => {
    const snapshot = completeGitSnapshot([repo({ 'eu/app.yaml': 'color: blue', 'us/app.yaml': 'color: red' }, 'release-eu')]);
    const doc = appSet(
      [{ matrix: { generators: [{ list: { elements: [{ cluster: 'eu-1', region: 'eu' }] } }, { git: { repoURL: REPO, revision: 'release-{{ region }}', files: [{ path: '{{ region }}/*.yaml' }] } }] } }],
      { color: '{{ color }}' },
    );
    expect(expand(doc, snapshot).apps.map(data)).toEqual([{ color: 'blue' }]);
  });
});

describe('git generator: reading Git', () => {
  const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: 'envs/*.yaml' }] } }], { v: '{{ v }}' });

  it('without the tree, the expansion only asks for it', () => {
    expect(expand(doc, EMPTY_GIT_SNAPSHOT)).toEqual({ apps: [], issues: [], needs: [{ kind: 'tree', repoURL: REPO, revision: 'main' }] });
  });

  it('with the tree but not the files, it asks for every matching file at the resolved commit', () => {
    const complete = completeGitSnapshot([repo({ 'envs/a.yaml': 'cluster: eu-1\nv: a', 'envs/b.yaml': 'cluster: us-1\nv: b', 'other/c.yaml': '' })]);
    const result = expand(doc, { trees: complete.trees, files: new Map() });
    expect(result.needs).toEqual([
      { kind: 'file', repoURL: REPO, commit: COMMIT, path: 'envs/a.yaml' },
      { kind: 'file', repoURL: REPO, commit: COMMIT, path: 'envs/b.yaml' },
    ]);
    expect(result.apps).toEqual([]);
  });

  it('a revision that could not be read is GIT_UNAVAILABLE at the generator, and no App at all', () => {
    const result = expand(doc, completeGitSnapshot([{ repoURL: REPO, revision: 'main', error: 'Could not resolve host' }]));
    expect(result.apps).toEqual([]);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'GIT_UNAVAILABLE', path: 'spec.generators[0].git', message: expect.stringContaining('Could not resolve host') })]);
  });

  it('explain names the generator, the file and the commit', () => {
    const result = expand(doc, completeGitSnapshot([repo({ 'envs/a.yaml': 'cluster: eu-1\nv: a' })]));
    expect(result.apps[0]!.explain.sources).toEqual([{ generator: 'spec.generators[0].git', element: 'envs/a.yaml', git: { repoURL: REPO, revision: 'main', commit: COMMIT } }]);
  });

  it('credentials in the repository URL never reach explain', () => {
    const url = 'https://bot:s3cr3t@git.example.com/fleet.git';
    const snapshot = completeGitSnapshot([{ repoURL: url, revision: 'main', commit: COMMIT, files: { 'a.yaml': 'cluster: eu-1' } }]);
    const result = expand(appSet([{ git: { repoURL: url, revision: 'main', files: [{ path: '*.yaml' }] } }], {}), snapshot);
    expect(JSON.stringify(result.apps[0]!.explain)).not.toContain('s3cr3t');
  });
});

describe('git generator: caps', () => {
  it('more (repository, revision) pairs than allowed is TOO_MANY_GIT_SOURCES', () => {
    const generators: GeneratorSpec[] = ['a', 'b', 'c'].map((revision) => ({ git: { repoURL: REPO, revision, files: [{ path: '*.yaml' }] } }));
    const result = expand(appSet(generators, {}), EMPTY_GIT_SNAPSHOT, { ...DEFAULT_EXPANSION_LIMITS, maxGitSources: 2 });
    expect(result.needs).toHaveLength(2);
    const complete = completeGitSnapshot(['a', 'b', 'c'].map((revision) => repo({}, revision)));
    expect(expand(appSet(generators, {}), complete, { ...DEFAULT_EXPANSION_LIMITS, maxGitSources: 2 }).issues).toEqual([
      expect.objectContaining({ code: 'TOO_MANY_GIT_SOURCES', path: 'spec.generators[2].git' }),
    ]);
  });

  it('a file over the size cap is GIT_FILE_TOO_LARGE and is never asked for', () => {
    const complete = completeGitSnapshot([repo({ 'big.yaml': `cluster: eu-1\nx: ${'y'.repeat(200)}` })]);
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: '*.yaml' }] } }], {});
    const result = expand(doc, { trees: complete.trees, files: new Map() }, { ...DEFAULT_EXPANSION_LIMITS, maxGitFileBytes: 100 });
    expect(result.needs).toEqual([]);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'GIT_FILE_TOO_LARGE', path: 'spec.generators[0].git[big.yaml]' })]);
  });

  it('more bytes in total than allowed is GIT_READ_LIMIT', () => {
    const complete = completeGitSnapshot([repo({ 'a.yaml': 'cluster: eu-1\nv: 1234567890', 'b.yaml': 'cluster: us-1\nv: 1234567890' })]);
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', files: [{ path: '*.yaml' }] } }], {});
    const result = expand(doc, complete, { ...DEFAULT_EXPANSION_LIMITS, maxGitReadBytes: 40 });
    expect(result.issues).toEqual([expect.objectContaining({ code: 'GIT_READ_LIMIT' })]);
  });

  it('a snapshot file is looked up by commit, so two revisions at one commit share it', () => {
    const complete = completeGitSnapshot([repo({ 'a.yaml': 'cluster: eu-1' }, 'main'), repo({ 'a.yaml': 'cluster: eu-1' }, 'v1')]);
    expect(complete.files.get(gitFileKey(COMMIT, 'a.yaml'))).toBe('cluster: eu-1');
    expect(complete.files.size).toBe(1);
  });
});

describe('normalizeName (Argo CD SanitizeName)', () => {
  it.each([
    ['directory_2', 'directory-2'],
    ['Team_B', 'team-b'],
    ['config.yaml', 'config.yaml'],
    ['-a.b-', 'a.b'],
    ['..', ''],
  ])('%j → %j', (name, want) => {
    expect(normalizeName(name)).toBe(want);
  });
});

describe('git generator: globbing', () => {
  // One layout read both ways, as in Argo CD's globbing documentation: a chart with a subchart.
  const files = {
    'charts/c1/web/values.yaml': 'app: web',
    'charts/c1/web/charts/sub/values.yaml': 'app: sub',
    'charts/c1/api/values.json': '{"app": "api"}',
    'charts/c1/.draft/values.yaml': 'app: draft',
    'charts/top.yaml': 'app: top',
  };
  const filesOf = (spec: Pick<GitGeneratorSpec, 'files' | 'globbing'>) => {
    const result = expand(appSet([{ git: { repoURL: REPO, revision: 'main', ...spec } }], { f: '{{ path.filename }}' }, '{{ app }}'), completeGitSnapshot([repo(files)]));
    // No file names a cluster: every set is NO_TARGET_CLUSTER, whose source names the file read.
    return result.issues.map((i) => i.message.replace(/^The parameter set from spec\.generators\[0\]\.git\[(.*)\] names no target cluster\.$/, '$1')).sort();
  };

  it.each<{ name: string; spec: Pick<GitGeneratorSpec, 'files' | 'globbing'>; want: string[] }>([
    { name: 'standard (the default): * stays within one segment', spec: { files: [{ path: 'charts/*/*/values.yaml' }] }, want: ['charts/c1/web/values.yaml'] },
    {
      name: 'legacy: * crosses /, so the subchart and hidden folders match too',
      spec: { files: [{ path: 'charts/*/*/values.yaml' }], globbing: 'legacy' },
      want: ['charts/c1/.draft/values.yaml', 'charts/c1/web/charts/sub/values.yaml', 'charts/c1/web/values.yaml'],
    },
    { name: 'standard: *.yaml under a folder is that folder only', spec: { files: [{ path: 'charts/*.yaml' }] }, want: ['charts/top.yaml'] },
    {
      name: 'legacy: *.yaml under a folder is any depth',
      spec: { files: [{ path: 'charts/*.yaml' }], globbing: 'legacy' },
      want: ['charts/c1/.draft/values.yaml', 'charts/c1/web/charts/sub/values.yaml', 'charts/c1/web/values.yaml', 'charts/top.yaml'],
    },
    { name: 'standard: {a,b} alternatives', spec: { files: [{ path: 'charts/c1/*/values.{yaml,json}' }] }, want: ['charts/c1/api/values.json', 'charts/c1/web/values.yaml'] },
    { name: 'legacy: no {a,b} alternatives, as in git', spec: { files: [{ path: 'charts/c1/*/values.{yaml,json}' }], globbing: 'legacy' }, want: [] },
    {
      name: 'legacy: a folder without wildcards is every file under it',
      spec: { files: [{ path: 'charts/c1/web' }, { path: 'charts/c1/web/charts', exclude: true }], globbing: 'legacy' },
      want: ['charts/c1/web/values.yaml'],
    },
  ])('$name', ({ spec, want }) => {
    expect(filesOf(spec)).toEqual(want);
  });

  it.each<{ name: string; globbing?: 'standard' | 'legacy'; want: string[] }>([
    { name: 'standard: ** crosses segments (and matches its own folder)', want: ['charts', 'charts/c1', 'charts/c1/api', 'charts/c1/web', 'charts/c1/web/charts', 'charts/c1/web/charts/sub'] },
    { name: 'legacy: Go path.Match, where ** is * and hidden folders are never listed', globbing: 'legacy', want: ['charts/c1'] },
  ])('directories, $name', ({ globbing, want }) => {
    const doc = appSet([{ git: { repoURL: REPO, revision: 'main', directories: [{ path: 'charts/**' }], ...(globbing ? { globbing } : {}) } }], { p: '{{ path.path }}' });
    const result = expand(doc, completeGitSnapshot([repo(files)]));
    expect(result.issues.map((i) => i.message.replace(/^The parameter set from spec\.generators\[0\]\.git\[(.*)\] names no target cluster\.$/, '$1')).sort()).toEqual(want);
  });
});

describe('git generator: empty files', () => {
  it.each([
    ['an empty file', ''],
    ['a file of comments only', '# nothing yet\n'],
    ['a file of empty documents', '---\n---\n'],
  ])('%s yields one set with the path parameters only, as in Argo CD', (_name, text) => {
    const doc = appSet(timesClusters({ repoURL: REPO, revision: 'main', files: [{ path: 'envs/*/config.yaml' }] }), { dir: '{{ path.basename }}', file: '{{ path.filename }}' }, '{{ path.basename }}-{{ cluster.name }}');
    const result = expand(doc, completeGitSnapshot([repo({ 'envs/dev/config.yaml': text })]));
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.appName, data(a)])).toEqual([
      ['dev-eu-1', { dir: 'dev', file: 'config.yaml' }],
      ['dev-us-1', { dir: 'dev', file: 'config.yaml' }],
    ]);
  });

  it('an empty list yields no set', () => {
    const doc = appSet(timesClusters({ repoURL: REPO, revision: 'main', files: [{ path: 'envs/*/config.yaml' }] }), { dir: '{{ path.basename }}' }, '{{ path.basename }}-{{ cluster.name }}');
    expect(expand(doc, completeGitSnapshot([repo({ 'envs/dev/config.yaml': '[]\n' })]))).toEqual({ apps: [], issues: [], needs: [] });
  });
});
