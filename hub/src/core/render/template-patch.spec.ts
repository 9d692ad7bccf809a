import { describe, expect, it } from 'vitest';
import { applyTemplatePatch, type RenderedTemplate } from './template-patch';
import { TemplateRenderer } from './template-renderer';

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', args: ['--a'] }] } } } };
const template: RenderedTemplate = { name: 'web', namespace: 'shop', manifests: [deployment] };

const params = {
  cluster: { name: 'eu-1' },
  autoscale: true,
  replicas: 3,
  args: ['--x', '--y'],
  labels: { team: 'pay' },
  evil: 'x\n  injected: true\nkind: Secret',
  env: 'prod',
};

function patch(text: string): ReturnType<typeof applyTemplatePatch> {
  return applyTemplatePatch(template, text, params, new TemplateRenderer());
}

function manifest(result: ReturnType<typeof applyTemplatePatch>, index = 0): Record<string, unknown> {
  if ('issues' in result) throw new Error(JSON.stringify(result.issues));
  return result.manifests[index] as Record<string, unknown>;
}

describe('applyTemplatePatch', () => {
  it('a whole output keeps its type: a number, a boolean, a list, an object', () => {
    const result = patch(`manifests:
  - kind: Deployment
    metadata: { name: web, labels: {{ labels }} }
    spec:
      replicas: {{ replicas }}
      paused: {{ autoscale }}
      template: { spec: { containers: [{ name: web, args: {{ args }} }] } }
`);
    expect(manifest(result)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { team: 'pay' } },
      spec: { replicas: 3, paused: true, template: { spec: { containers: [{ name: 'web', args: ['--x', '--y'] }] } } },
    });
  });

  it('control flow decides what the patch holds', () => {
    const result = patch(`{% if autoscale %}manifests:
  - apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: { name: web-{{ cluster.name }} }
    spec: { maxReplicas: {{ replicas | times: 2 }} }
{% endif %}`);
    expect('issues' in result ? result : result.manifests).toEqual([
      deployment,
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web-eu-1' }, spec: { maxReplicas: 6 } },
    ]);
  });

  it('a value holding YAML stays one string: a parameter cannot add keys or documents', () => {
    const result = patch(`manifests:
  - kind: Deployment
    metadata: { name: web, annotations: { note: {{ evil }}, line: "v={{ evil }}" } }
`);
    expect((manifest(result)['metadata'] as Record<string, unknown>)['annotations']).toEqual({ note: params.evil, line: `v=${params.evil}` });
    expect(Object.keys(manifest(result))).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });

  it('a list of items built with for keeps each item a value', () => {
    const result = patch(`manifests:
  - kind: Deployment
    metadata: { name: web }
    spec:
      template:
        spec:
          containers:
            - name: web
              args:
              {%- for a in args %}
                - {{ a }}
              {%- endfor %}
`);
    expect(manifest(result)['spec']).toMatchObject({ template: { spec: { containers: [{ name: 'web', args: ['--x', '--y'] }] } } });
  });

  it('null deletes a key, and name and namespace replace', () => {
    const result = patch(`name: web-{{ env }}
namespace: {{ env }}
manifests:
  - { kind: Deployment, metadata: { name: web }, spec: { template: null } }
`);
    expect(result).toEqual({ name: 'web-prod', namespace: 'prod', manifests: [{ ...deployment, spec: { replicas: 1 } }] });
  });

  it('an empty rendering patches nothing', () => {
    expect(patch('{% if nope %}name: other{% endif %}')).toEqual(template);
  });

  it.each([
    ['a key other than name, namespace and manifests', 'syncPolicy: { automated: {} }', 'may only set'],
    ['a manifest without kind and name', 'manifests: [{ spec: { replicas: 2 } }]', 'kind and metadata.name'],
    ['a rendering that is not YAML', 'manifests: [', 'not valid YAML'],
    ['a list spliced into longer text', 'name: web-{{ args }}', 'a list'],
    ['a non-string name', 'name: {{ replicas }}', 'must be a string'],
    ['a YAML list at the top', '- a', 'mapping'],
  ])('%s is TEMPLATE_PATCH_INVALID', (_name, text, message) => {
    expect(patch(text)).toEqual({ issues: [expect.objectContaining({ code: 'TEMPLATE_PATCH_INVALID', path: 'spec.templatePatch', message: expect.stringContaining(message) })] });
  });

  it('an undefined parameter is a TEMPLATE_ERROR at the patch', () => {
    expect(patch('name: {{ nope }}')).toEqual({ issues: [expect.objectContaining({ code: 'TEMPLATE_ERROR', path: 'spec.templatePatch' })] });
  });

  it('a parameter spelling a placeholder name cannot stand for another output', () => {
    const renderer = new TemplateRenderer();
    const forged = { a: '__flotilla_0_1__', b: ['x'] };
    const result = applyTemplatePatch(template, 'name: n\nmanifests: [{ kind: Deployment, metadata: { name: web, labels: { a: "{{ a }}" } }, spec: { b: {{ b }} } }]', forged, renderer);
    expect(manifest(result)).toMatchObject({ metadata: { labels: { a: '__flotilla_0_1__' } }, spec: { b: ['x'] } });
  });
});
