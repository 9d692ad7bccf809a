import { describe, expect, it } from 'vitest';
import { checkGitChart, normaliseChartPath } from './git-chart';

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
