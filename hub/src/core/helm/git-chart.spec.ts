import { describe, expect, it } from 'vitest';
import { checkGitChart, normaliseChartPath, placeGitValueFile } from './git-chart';

const files = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('checkGitChart', () => {
  it.each([
    ['accepts a chart with a name and a version', { 'Chart.yaml': 'name: web\nversion: 1.2.3\n' }, { ok: true, name: 'web', version: '1.2.3' }],
    ['accepts dependencies vendored unpacked under charts/', { 'Chart.yaml': 'name: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 2.0.0\n', 'charts/db/Chart.yaml': 'name: db\nversion: 2.0.0\n' }, { ok: true, name: 'web', version: '1.0.0' }],
  ])('%s', (_name, input, expected) => {
    expect(checkGitChart(files(input), 'charts/web')).toEqual(expected);
  });

  it.each([
    ['refuses a directory without Chart.yaml', { 'values.yaml': 'a: 1\n' }, 'HELM_GIT_CHART_NOT_FOUND'],
    ['refuses a Chart.yaml that is not YAML', { 'Chart.yaml': 'name: [web\n' }, 'HELM_GIT_CHART_INVALID'],
    ['refuses a Chart.yaml without a version', { 'Chart.yaml': 'name: web\n' }, 'HELM_GIT_CHART_INVALID'],
    ['refuses a dependency that is not vendored', { 'Chart.yaml': 'name: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    repository: https://charts.example.com\n' }, 'HELM_GIT_DEPENDENCY_NOT_VENDORED'],
    ['refuses a packed subchart', { 'Chart.yaml': 'name: web\nversion: 1.0.0\n', 'charts/db-2.0.0.tgz': 'binary' }, 'HELM_GIT_DEPENDENCY_PACKED'],
  ])('%s', (_name, input, code) => {
    const result = checkGitChart(files(input), 'charts/web');
    expect(result).toMatchObject({ ok: false, code });
    expect((result as { message: string }).message).toContain('charts/web');
  });
});

describe('normaliseChartPath', () => {
  it.each([
    ['charts/web', 'charts/web'],
    ['./charts//web/', 'charts/web'],
    ['.', '.'],
    ['', '.'],
    ['../web', undefined],
    ['charts/../../web', undefined],
    ['/etc', undefined],
  ])('reads %j as %j', (input, expected) => {
    expect(normaliseChartPath(input)).toBe(expected);
  });
});

describe('placeGitValueFile', () => {
  it.each([
    ['a file inside the chart', 'charts/web', 'values-prod.yaml', { ok: true, where: 'chart', path: 'values-prod.yaml' }],
    ['a file in a folder of the chart', 'charts/web', './env/prod.yaml', { ok: true, where: 'chart', path: 'env/prod.yaml' }],
    ['a path that leaves the chart and comes back into it', 'charts/web', '../web/values.yaml', { ok: true, where: 'chart', path: 'values.yaml' }],
    ['a file elsewhere in the repository, relative to the chart', 'charts/web', '../../envs/prod/values.yaml', { ok: true, where: 'repository', path: 'envs/prod/values.yaml' }],
    ['a sibling chart\'s file', 'charts/web', '../webber/values.yaml', { ok: true, where: 'repository', path: 'charts/webber/values.yaml' }],
    ['an absolute path, relative to the repository root', 'charts/web', '/envs/prod/values.yaml', { ok: true, where: 'repository', path: 'envs/prod/values.yaml' }],
    ['an absolute path into the chart', 'charts/web', '/charts/web/values-prod.yaml', { ok: true, where: 'chart', path: 'values-prod.yaml' }],
    ['any file of a chart at the repository root', '.', 'envs/prod.yaml', { ok: true, where: 'chart', path: 'envs/prod.yaml' }],
  ])('places %s', (_case, chartPath, file, expected) => {
    expect(placeGitValueFile(chartPath, file)).toEqual(expected);
  });

  it.each([
    ['a path leaving the repository from the chart', 'charts/web', '../../../etc/passwd', 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY'],
    ['a path leaving the repository from its root', '.', '../values.yaml', 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY'],
    ['an absolute path leaving the repository', 'charts/web', '/../values.yaml', 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY'],
    ['a path that leaves and comes back', 'charts/web', '../../../charts-repo/values.yaml', 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY'],
    ['an empty path', 'charts/web', ' ', 'HELM_VALUE_FILE_INVALID'],
    ['backslashes', 'charts/web', '..\\..\\values.yaml', 'HELM_VALUE_FILE_INVALID'],
    ['the repository root itself', 'charts/web', '../..', 'HELM_VALUE_FILE_INVALID'],
  ])('refuses %s', (_case, chartPath, file, code) => {
    const placed = placeGitValueFile(chartPath, file);
    expect(placed).toMatchObject({ ok: false, code });
    expect((placed as { message: string }).message).toContain(file.trim() === '' ? 'values file' : file.slice(0, 20));
  });
});
