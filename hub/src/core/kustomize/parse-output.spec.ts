import { describe, expect, it } from 'vitest';
import { parseKustomizeOutput } from './parse-output';

describe('parseKustomizeOutput', () => {
  it('returns every object of the stream in order, skipping empty documents, strings kept as written', () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  t: '{{ $labels.x }}'\n---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
    expect(parseKustomizeOutput(text)).toEqual({
      manifests: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { t: '{{ $labels.x }}' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' } },
      ],
    });
  });

  it.each([
    { name: 'empty output', text: '', code: 'KUSTOMIZE_OUTPUT_EMPTY' },
    { name: 'only separators', text: '---\n---\n', code: 'KUSTOMIZE_OUTPUT_EMPTY' },
    { name: 'a list document', text: '- a\n- b\n', code: 'KUSTOMIZE_OUTPUT_INVALID' },
    { name: 'broken YAML', text: 'a: [b\n', code: 'KUSTOMIZE_OUTPUT_INVALID' },
  ])('refuses $name with $code', ({ text, code }) => {
    expect(parseKustomizeOutput(text)).toMatchObject({ code });
  });
});
