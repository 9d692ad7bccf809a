import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseAppSet } from './parse-app-set';

/** An AppSet document around one generator (and extra spec fields), as YAML text. */
function document(generator: Record<string, unknown>, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'AppSet',
    metadata: { name: 'web' },
    spec: { generators: [generator], template: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' } }] }, ...spec },
  });
}

function issuesOf(text: string): { code: string; path: string; message: string }[] {
  const parsed = parseAppSet(text);
  return parsed.ok ? [] : parsed.issues.map((i) => ({ code: i.code, path: i.path, message: i.message }));
}

describe('label selector rules (Kubernetes, Argo CD)', () => {
  it.each([
    {
      name: 'In with an empty values list',
      generator: { clusters: {}, selector: { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] } },
      path: 'spec.generators[0].selector.matchExpressions[0].values',
      message: 'needs at least one value',
    },
    {
      name: 'NotIn without values',
      generator: { clusters: { selector: { matchExpressions: [{ key: 'env', operator: 'NotIn' }] } } },
      path: 'spec.generators[0].clusters.selector.matchExpressions[0].values',
      message: 'is required',
    },
    {
      name: 'Exists with values',
      generator: { clusters: {}, selector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] } },
      path: 'spec.generators[0].selector.matchExpressions[0].values',
      message: 'must be empty',
    },
  ])('$name is one SCHEMA issue at the values', ({ generator, path, message }) => {
    expect(issuesOf(document(generator))).toEqual([{ code: 'SCHEMA', path, message: expect.stringContaining(message) }]);
  });

  it.each([
    ['In with values', { key: 'env', operator: 'In', values: ['prod'] }],
    ['DoesNotExist without values', { key: 'env', operator: 'DoesNotExist' }],
    ['Exists with an empty list', { key: 'env', operator: 'Exists', values: [] }],
  ])('%s is accepted', (_name, expression) => {
    expect(issuesOf(document({ clusters: {}, selector: { matchExpressions: [expression] } }))).toEqual([]);
  });
});

describe('Argo CD fields', () => {
  it.each([
    ['elementsYaml and a generator template on a list', { list: { elements: [], elementsYaml: '- { cluster: eu-1 }', template: { name: 'x' } } }, {}],
    ['globbing legacy on a git generator', { git: { repoURL: 'https://git.example/x.git', files: [{ path: '*.yaml' }], globbing: 'legacy' } }, {}],
    ['a templatePatch', { clusters: {} }, { templatePatch: 'name: web' }],
    ['a generator template with a partial source', { clusters: { template: { source: { path: 'deploy' } } } }, {}],
  ])('%s parses', (_name, generator, spec) => {
    expect(issuesOf(document(generator, spec))).toEqual([]);
  });

  it.each([
    ['an unknown globbing', { git: { repoURL: 'https://git.example/x.git', files: [{ path: '*.yaml' }], globbing: 'greedy' } }, 'spec.generators[0].git.globbing'],
    ['an unknown field in a generator template', { clusters: { template: { spec: {} } } }, 'spec.generators[0].clusters.template.spec'],
  ])('%s is a SCHEMA issue', (_name, generator, path) => {
    expect(issuesOf(document(generator))).toEqual([expect.objectContaining({ code: 'SCHEMA', path })]);
  });
});
