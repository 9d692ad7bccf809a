import { describe, expect, it } from 'vitest';
import { checkSourceSettings, collectSourceDocuments, normaliseSourcePath, selectSourceFiles } from './source-documents';

const appSet = (name: string, extra = '') => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: ${name}${extra}
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: "{{ cluster.name }}" }
`;

describe('collectSourceDocuments', () => {
  it('reads every AppSet of every file, several documents a file, and puts each in the source project', () => {
    const { documents, issues } = collectSourceDocuments(
      [
        { path: 'apps/a.yaml', text: appSet('web') + '---\n' + appSet('api') },
        { path: 'apps/b.yml', text: appSet('jobs') },
      ],
      'payments',
    );
    expect(issues).toEqual([]);
    expect(documents.map((d) => [d.file, d.document.metadata.name, d.document.metadata.project])).toEqual([
      ['apps/a.yaml', 'web', 'payments'],
      ['apps/a.yaml', 'api', 'payments'],
      ['apps/b.yml', 'jobs', 'payments'],
    ]);
  });

  it.each([
    { name: 'a syntax error in the second document of a file names the file and its own line', text: appSet('web') + '---\nkind: AppSet\nmetadata: { name: x\n', code: 'YAML_SYNTAX', line: 16 },
    { name: 'a schema error names the file, line and column of the field', text: appSet('web').replace('clusters: {}', 'clusters: 3'), code: 'SCHEMA', line: 7 },
  ])('$name', ({ text, code, line }) => {
    const { issues } = collectSourceDocuments([{ path: 'apps/bad.yaml', text }], 'default');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ file: 'apps/bad.yaml', line });
    expect(issues[0]!.code.startsWith(code) || issues[0]!.code === code).toBe(true);
  });

  it('leaves documents that are not AppSets alone (a git generator reads them)', () => {
    const { documents, issues } = collectSourceDocuments([{ path: 'envs/prod.yaml', text: 'cluster: prod\nreplicas: 3\n' }, { path: 'apps/web.yaml', text: appSet('web') }], 'default');
    expect(issues).toEqual([]);
    expect(documents.map((d) => d.document.metadata.name)).toEqual(['web']);
  });

  it('refuses an AppSet that names another project, and a name defined twice, with the file of each', () => {
    const { issues } = collectSourceDocuments(
      [
        { path: 'a.yaml', text: appSet('web', '\n  project: other') },
        { path: 'b.yaml', text: appSet('api') },
        { path: 'c.yaml', text: appSet('api') },
      ],
      'default',
    );
    expect(issues.map((i) => [i.code, i.file, i.line])).toEqual([
      ['PROJECT_MISMATCH', 'a.yaml', 1],
      ['DUPLICATE_APPSET', 'c.yaml', 1],
    ]);
    expect(issues[1]!.message).toContain('b.yaml');
  });
});

describe('source settings', () => {
  const good = { name: 'platform', repoURL: 'https://git.example.com/fleet.git', revision: 'main', path: 'clusters/prod', interval: '3m' };
  it('accepts good settings and normalises path and interval', () => {
    expect(checkSourceSettings(good)).toEqual({ issues: [], path: 'clusters/prod', intervalSeconds: 180 });
  });
  it.each([
    { field: 'name', value: 'Platform!', code: 'INVALID_NAME' },
    { field: 'repoURL', value: 'ext::sh -c id', code: 'INVALID_REPO_URL' },
    { field: 'repoURL', value: 'https://bot:s3cret@git.example.com/fleet.git', code: 'CREDENTIALS_IN_URL' },
    { field: 'revision', value: '--upload-pack=x', code: 'INVALID_REVISION' },
    { field: 'path', value: '../etc', code: 'INVALID_PATH' },
    { field: 'interval', value: '1s', code: 'INVALID_INTERVAL' },
    { field: 'interval', value: 'soon', code: 'INVALID_INTERVAL' },
  ])('refuses $field "$value" with $code, never echoing a credential', ({ field, value, code }) => {
    const { issues } = checkSourceSettings({ ...good, [field]: value });
    expect(issues.map((i) => i.code)).toEqual([code]);
    expect(JSON.stringify(issues)).not.toContain('s3cret');
  });
  it.each([
    ['', ''],
    ['.', ''],
    ['./apps/', 'apps'],
    ['a//b', 'a/b'],
    ['/abs', undefined],
    ['a/../b', undefined],
  ])('normalises path "%s" to %s', (path, expected) => {
    expect(normaliseSourcePath(path)).toBe(expected);
  });
});

describe('selectSourceFiles', () => {
  const limits = { maxFiles: 2, maxFileBytes: 100, maxTotalBytes: 150 };
  it('reads the YAML files under the folder only, in path order', () => {
    const files = new Map([['apps/b.yaml', 10], ['apps/a.yml', 10], ['apps/readme.md', 10], ['other/c.yaml', 10]]);
    expect(selectSourceFiles(files, 'apps', limits)).toEqual({ paths: ['apps/a.yml', 'apps/b.yaml'], refused: [] });
  });
  it('refuses too many files, a file too large and too many bytes in all', () => {
    expect(selectSourceFiles(new Map([['a.yaml', 1], ['b.yaml', 1], ['c.yaml', 1]]), '', limits).refused[0]).toContain('3 YAML files');
    expect(selectSourceFiles(new Map([['a.yaml', 101]]), '', limits).refused[0]).toContain('a.yaml is 101 bytes');
    expect(selectSourceFiles(new Map([['a.yaml', 90], ['b.yaml', 90]]), '', limits).refused[0]).toContain('180 bytes in all');
  });
});
