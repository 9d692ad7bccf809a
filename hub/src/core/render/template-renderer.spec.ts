import { describe, expect, it } from 'vitest';
import { DEFAULT_RENDER_LIMITS, TemplateRenderer } from './template-renderer';

const params = { path: { path: 'apps/web', segments: ['apps', 'web'] }, replicas: 3, name: 'web' };

describe('TemplateRenderer', () => {
  it.each([
    ['an object', '{{ path }}'],
    ['a list', 'x-{{ path.segments }}'],
  ])('printing %s whole is a TEMPLATE_ERROR rather than [object Object] or run-together items', (_name, template) => {
    const result = new TemplateRenderer().renderTree({ v: template }, params, 'spec');
    expect(result.issues).toEqual([expect.objectContaining({ code: 'TEMPLATE_ERROR', path: 'spec.v', message: expect.stringContaining('json') })]);
  });

  it('a field, the json filter and join still render', () => {
    const result = new TemplateRenderer().renderTree({ a: '{{ path.path }}', b: '{{ path | json }}', c: "{{ path.segments | join: '/' }}" }, params, 'spec');
    expect(result).toEqual({ value: { a: 'apps/web', b: '{"path":"apps/web","segments":["apps","web"]}', c: 'apps/web' }, issues: [] });
  });

  it('a template over the parse cap is TEMPLATE_TOO_LARGE', () => {
    const renderer = new TemplateRenderer({ ...DEFAULT_RENDER_LIMITS, maxTemplateChars: 20 });
    expect(renderer.renderTree('{{ name }}'.padEnd(40, ' '), params, 'spec').issues).toEqual([expect.objectContaining({ code: 'TEMPLATE_TOO_LARGE' })]);
  });

  it('a template allocating past the memory cap is RENDER_MEMORY_LIMIT', () => {
    const renderer = new TemplateRenderer({ ...DEFAULT_RENDER_LIMITS, maxRenderMemory: 1000 });
    const result = renderer.renderTree('{% for i in (1..100000) %}{{ i }}{% endfor %}', params, 'spec');
    expect(result.issues).toEqual([expect.objectContaining({ code: 'RENDER_MEMORY_LIMIT', path: 'spec' })]);
  });

  it('a template rendering past the time cap is RENDER_TIME_LIMIT', () => {
    const renderer = new TemplateRenderer({ ...DEFAULT_RENDER_LIMITS, maxRenderMs: 0, maxRenderMemory: 1e12 });
    const result = renderer.renderTree('{% for i in (1..100000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}', params, 'spec');
    expect(result.issues).toEqual([expect.objectContaining({ code: 'RENDER_TIME_LIMIT', path: 'spec' })]);
  });
});
