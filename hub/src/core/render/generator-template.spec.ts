import { describe, expect, it } from 'vitest';
import type { GeneratorTemplateSpec, TemplateSpec } from '../app-set/app-set-spec';
import { effectiveTemplate } from './generator-template';

const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
const inline: TemplateSpec = { name: 'web', namespace: 'shop', manifests: [cm] };
const fromGit: TemplateSpec = { name: 'web', source: { repoURL: 'https://git.example/x.git', revision: 'main', path: 'deploy' } };
const at = 'spec.generators[0].list.template';

function effective(spec: TemplateSpec, own: GeneratorTemplateSpec) {
  const result = effectiveTemplate(spec, { spec: own, path: at });
  if ('code' in result) return result;
  return { template: result.template, paths: (['name', 'namespace', 'manifests', 'source'] as const).map(result.pathOf) };
}

describe('effectiveTemplate', () => {
  it.each([
    {
      name: 'fields the generator sets replace the spec template, the rest stay',
      spec: inline,
      own: { name: 'other' },
      want: { name: 'other', namespace: 'shop', manifests: [cm] },
      paths: [`${at}.name`, 'spec.template.namespace', 'spec.template.manifests', 'spec.template.source'],
    },
    {
      name: 'a source is merged field by field',
      spec: fromGit,
      own: { source: { path: 'deploy/override' } },
      want: { name: 'web', source: { repoURL: 'https://git.example/x.git', revision: 'main', path: 'deploy/override' } },
      paths: ['spec.template.name', 'spec.template.namespace', 'spec.template.manifests', `${at}.source`],
    },
    {
      name: 'manifests drop the spec source',
      spec: fromGit,
      own: { manifests: [cm] },
      want: { name: 'web', manifests: [cm] },
      paths: ['spec.template.name', 'spec.template.namespace', `${at}.manifests`, 'spec.template.source'],
    },
    {
      name: 'a complete source drops the spec manifests',
      spec: inline,
      own: { source: { repoURL: 'https://git.example/y.git', path: 'p' } },
      want: { name: 'web', namespace: 'shop', source: { repoURL: 'https://git.example/y.git', path: 'p' } },
      paths: [`spec.template.name`, 'spec.template.namespace', 'spec.template.manifests', `${at}.source`],
    },
  ])('$name', ({ spec, own, want, paths }) => {
    expect(effective(spec, own)).toEqual({ template: want, paths });
  });

  it('a source without repoURL over inline manifests is INVALID_TEMPLATE_OVERRIDE', () => {
    expect(effective(inline, { source: { path: 'p' } })).toEqual(expect.objectContaining({ code: 'INVALID_TEMPLATE_OVERRIDE', path: `${at}.source` }));
  });

  it('without a generator template the spec template is used as is', () => {
    const result = effectiveTemplate(inline, undefined);
    expect('code' in result ? result : [result.template, result.pathOf('name')]).toEqual([inline, 'spec.template.name']);
  });
});
