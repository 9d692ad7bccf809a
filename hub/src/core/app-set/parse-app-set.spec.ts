import { describe, expect, it } from 'vitest';
import { parseAppSet, parseStrategy } from './parse-app-set';

const valid = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: web
spec:
  generators:
    - clusters:
        selector:
          matchLabels: { env: prod }
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { region: "{{ cluster.labels.region }}" }
`;

describe('parseAppSet', () => {
  it('a valid AppSet parses to its document', () => {
    const result = parseAppSet(valid);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.metadata.name).toBe('web');
  });

  it.each([
    { name: 'an empty document is refused', text: '', code: 'EMPTY_DOCUMENT', path: '' },
    { name: 'broken YAML is refused', text: 'a: [1, 2', code: 'YAML_SYNTAX', path: '' },
    { name: 'two documents are refused', text: `${valid}\n---\n${valid}`, code: 'MULTIPLE_DOCUMENTS', path: '' },
    { name: 'a wrong apiVersion points at apiVersion', text: valid.replace('flotilla.dev/v1alpha1', 'argoproj.io/v1alpha1'), code: 'SCHEMA', path: 'apiVersion' },
    { name: 'an unknown generator kind points at the generator', text: valid.replace('- clusters:', '- scm:'), code: 'SCHEMA', path: 'spec.generators[0].scm' },
    { name: 'a missing template points at it', text: valid.replace(/ {2}template:[\s\S]*/, ''), code: 'SCHEMA', path: 'spec.template' },
    { name: 'an AppSet name that is not a DNS label is refused', text: valid.replace('name: web\nspec', 'name: Web!\nspec'), code: 'SCHEMA', path: 'metadata.name' },
    { name: 'a bad selector operator is refused', text: valid.replace('matchLabels: { env: prod }', 'matchExpressions: [{ key: env, operator: Like }]'), code: 'SCHEMA', path: 'spec.generators[0].clusters.selector.matchExpressions[0].operator' },
    { name: 'a document over the size cap is refused before parsing', text: `# ${'x'.repeat(600 * 1024)}\n${valid}`, code: 'DOCUMENT_TOO_LARGE', path: '' },
  ])('$name', ({ text, code, path }) => {
    const result = parseAppSet(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ code, path }));
  });

  it.each([
    { name: 'a matrix nesting a merge parses', generator: '- matrix:\n        generators:\n          - list: { elements: [{ env: prod }] }\n          - merge: { mergeKeys: [cluster.name], generators: [{ clusters: {} }, { list: { elements: [] } }] }' },
    { name: 'a post selector beside the kind parses', generator: '- clusters: {}\n      selector: { matchLabels: { cluster.labels.env: prod } }' },
    { name: 'a list element without cluster parses', generator: '- list: { elements: [{ env: prod }] }' },
  ])('$name', ({ generator }) => {
    const result = parseAppSet(valid.replace(/- clusters:\n {8}selector:\n {10}matchLabels: \{ env: prod \}/, generator));
    expect(result).toMatchObject({ ok: true });
  });

  it('template overrides parse', () => {
    const text = `${valid}    overrides:\n      - selector: { matchLabels: { env: prod } }\n        patch: { kind: ConfigMap, metadata: { name: web }, data: { region: null } }\n`;
    expect(parseAppSet(text)).toMatchObject({ ok: true });
  });

  it.each([
    { name: 'a matrix with one child is refused', generator: '- matrix: { generators: [{ clusters: {} }] }', path: 'spec.generators[0].matrix.generators' },
    { name: 'a merge without mergeKeys is refused', generator: '- merge: { generators: [{ clusters: {} }, { clusters: {} }] }', path: 'spec.generators[0].merge.mergeKeys' },
    { name: 'a generator with two kinds is refused', generator: '- clusters: {}\n      list: { elements: [] }', path: 'spec.generators[0]' },
    { name: 'a list element cluster that is not a string is refused', generator: '- list: { elements: [{ cluster: 5 }] }', path: 'spec.generators[0].list.elements[0].cluster' },
  ])('$name', ({ generator, path }) => {
    const result = parseAppSet(valid.replace(/- clusters:\n {8}selector:\n {10}matchLabels: \{ env: prod \}/, generator));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ code: 'SCHEMA', path }));
  });

  it.each([
    { name: 'an unclosed flow sequence is reported at the line and column where YAML gives up', text: 'a: [1, 2', line: 1, column: 9 },
    { name: 'a key repeated on line 3 is reported there', text: `${valid.split('\n').slice(0, 3).join('\n')}\nkind: AppSet\n`, line: 4, column: 1 },
    { name: 'a bad indentation deep in the document names its own line', text: valid.replace('        kind: ConfigMap', '        kind: ConfigMap\n       oops: [1'), line: 16, column: 1 },
  ])('a YAML syntax error comes with its line and column: $name', ({ text, line, column }) => {
    const result = parseAppSet(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ code: 'YAML_SYNTAX', line, column });
    expect(result.issues[0]!.message).toContain(`(line ${line}, column ${column})`);
  });

  it.each([
    { name: 'a wrong apiVersion says which one is expected', text: valid.replace('flotilla.dev/v1alpha1', 'flotilla.io/v1alpha1'), issue: { path: 'apiVersion', message: 'apiVersion must be "flotilla.dev/v1alpha1"', line: 2, column: 1 } },
    { name: 'a wrong kind says which one is expected', text: valid.replace('kind: AppSet', 'kind: ApplicationSet'), issue: { path: 'kind', message: 'kind must be "AppSet"', line: 3, column: 1 } },
    {
      name: 'a bad selector operator lists the allowed operators',
      text: valid.replace('matchLabels: { env: prod }', 'matchExpressions: [{ key: env, operator: Like }]'),
      issue: { path: 'spec.generators[0].clusters.selector.matchExpressions[0].operator', message: 'spec.generators[0].clusters.selector.matchExpressions[0].operator must be one of: "In", "NotIn", "Exists", "DoesNotExist"', line: 10 },
    },
    {
      name: 'an unknown generator kind names the kinds there are, once, instead of one "is required" per kind',
      text: valid.replace('- clusters:', '- scm:'),
      issue: { path: 'spec.generators[0]', message: 'spec.generators[0] must have exactly one of: list, clusters, matrix, merge, git', line: 8 },
    },
    { name: 'an unknown field points at the line that names it', text: valid.replace('    namespace: web', '    namespace: web\n    bogus: 1'), issue: { path: 'spec.template.bogus', message: 'spec.template.bogus is not a known field', line: 13, column: 5 } },
    { name: 'a missing field points at the mapping that lacks it', text: valid.replace(/ {2}template:[\s\S]*/, ''), issue: { path: 'spec.template', message: 'spec.template is required', line: 6, column: 1 } },
  ])('a schema issue says what is expected and where: $name', ({ text, issue }) => {
    const result = parseAppSet(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ code: 'SCHEMA', ...issue }));
  });

  it('an unknown generator kind is refused with two issues, not one per kind it could have been', () => {
    const result = parseAppSet(valid.replace('- clusters:', '- scm:'));
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(['spec.generators[0]', 'spec.generators[0].scm']);
  });

  it('an alias bomb is refused', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]`;
    const result = parseAppSet(bomb);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]!.code).toBe('YAML_ALIAS_LIMIT');
  });
});

describe('parseStrategy', () => {
  it('accepts a valid per-rollout strategy', () => {
    expect(parseStrategy({ byLabel: { label: 'region', soak: '5s' }, onFailure: 'rollback' })).toEqual({
      ok: true,
      value: { byLabel: { label: 'region', soak: '5s' }, onFailure: 'rollback' },
    });
  });

  it.each([
    { name: 'an unknown field is refused with its path', value: { wavez: [] }, path: 'strategy.wavez' },
    { name: 'a bad onFailure is refused', value: { onFailure: 'panic' }, path: 'strategy.onFailure' },
    { name: 'a bad duration in a wave is refused', value: { waves: [{ name: 'a', soak: 'later' }] }, path: 'strategy.waves[0].soak' },
    { name: 'a bad canary maxConcurrency is refused', value: { byLabel: { label: 'region', canary: { maxConcurrency: 'half' } } }, path: 'strategy.byLabel.canary.maxConcurrency' },
  ])('$name', ({ value, path }) => {
    const result = parseStrategy(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it.each(['auto', 'manual'])('accepts trigger %s and onFailure fail', (trigger) => {
    expect(parseStrategy({ trigger, onFailure: 'fail' })).toEqual({ ok: true, value: { trigger, onFailure: 'fail' } });
  });
});

describe('spec.strategy.trigger', () => {
  it('an unknown trigger is one SCHEMA issue at its path, naming the values it may take, with its line', () => {
    const text = `${valid.trimEnd()}\n  strategy:\n    trigger: always\n`;
    const line = text.split('\n').findIndex((l) => l.includes('trigger:')) + 1;
    const result = parseAppSet(text);
    expect(result.ok ? [] : result.issues).toEqual([
      expect.objectContaining({ code: 'SCHEMA', path: 'spec.strategy.trigger', message: 'spec.strategy.trigger must be one of: "manual", "auto"', line }),
    ]);
  });

  it('trigger auto is kept in the document', () => {
    const result = parseAppSet(`${valid.trimEnd()}\n  strategy:\n    trigger: auto\n`);
    expect(result.ok && result.value.spec.strategy).toEqual({ trigger: 'auto' });
  });
});
