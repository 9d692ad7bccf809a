import { describe, expect, it } from 'vitest';
import { dig, normalizeName, slugifyName, trunc } from './filters';
import { TemplateRenderer } from './template-renderer';

const params = {
  name: 'Web_App.Prod',
  branch: 'feat/a_really+long_pull_request_name_to_test_slugs_and_more_words_here',
  values: { image: { tag: '1.2.3' }, hosts: ['a.example', 'b.example'], empty: null },
  secret: 'hunter2',
  encoded: 'aHVudGVyMg==',
  doc: 'a: 1\nb: [x, y]\n',
  text: 'hello world',
  port: 8080,
};

function render(template: string): { value: unknown; issues: { code: string; message: string }[] } {
  return new TemplateRenderer().renderTree(template, params, 'spec');
}

describe('Argo CD (Sprig) filters', () => {
  it.each([
    ['normalize', '{{ name | normalize }}', 'web-app.prod'],
    ['slugify with the defaults (50 characters, whole words)', '{{ branch | slugify }}', 'feat-a-really-long-pull-request-name-to-test-slugs'],
    ['slugify to a length, cutting at a word boundary', '{{ branch | slugify: 23 }}', 'feat-a-really-long-pull'],
    ['slugify without smart truncation', '{{ branch | slugify: 23, false }}', 'feat-a-really-long-pull'],
    ['lower', "{{ 'MiXeD' | lower }}", 'mixed'],
    ['upper', '{{ text | upper }}', 'HELLO WORLD'],
    ['replace (every occurrence)', "{{ 'a-b-c' | replace: '-', '.' }}", 'a.b.c'],
    ['trunc', '{{ text | trunc: 5 }}', 'hello'],
    ['trunc with a negative length keeps the end', '{{ text | trunc: -5 }}', 'world'],
    ['b64enc', '{{ secret | b64enc }}', 'aHVudGVyMg=='],
    ['b64dec', '{{ encoded | b64dec }}', 'hunter2'],
    ['sha256sum', "{{ 'abc' | sha256sum }}", 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['toJson', '{{ values.hosts | toJson }}', '["a.example","b.example"]'],
    ['toYaml', '{{ values.image | toYaml }}', 'tag: 1.2.3'],
    ['fromYaml then a field', '{% assign d = doc | fromYaml %}{{ d.b[1] }}', 'y'],
    ['dig a nested key', "{{ values | dig: 'image', 'tag', 'latest' }}", '1.2.3'],
    ['dig a missing key gives the fallback', "{{ values | dig: 'image', 'digest', 'none' }}", 'none'],
    ['dig a list item by index', "{{ values | dig: 'hosts', 1, 'none' }}", 'b.example'],
    ['dig a null value gives the fallback', "{{ values | dig: 'empty', 'none' }}", 'none'],
    ['default on an undefined parameter', "{{ nameSuffix | default: '' }}x", 'x'],
    ['default on an undefined nested key', "{{ values.missing | default: 'd' }}", 'd'],
    ['if on an undefined parameter', '{% if nameSuffix %}-{{ nameSuffix }}{% else %}none{% endif %}', 'none'],
    ['unless on an undefined parameter', '{% unless flags.canary %}stable{% endunless %}', 'stable'],
    ['dig after default on an undefined parameter', "{{ missing | default: nil | dig: 'a', 'fallback' }}", 'fallback'],
  ])('%s', (_name, template, want) => {
    expect(render(template)).toEqual({ value: want, issues: [] });
  });

  it.each([
    ['a typo is still an undefined variable', '{{ nmae }}', 'undefined variable'],
    ['a typo under a filter that is not default is still an error', '{{ nmae | upper }}', 'undefined variable'],
    ['text that is not base64', "{{ 'not base64!' | b64dec }}", 'not base64'],
    ['YAML that does not parse', "{% assign d = 'a: [' | fromYaml %}{{ d }}", 'fromYaml'],
    ['a filter given an object where text is expected', '{{ values | upper }}', 'expected text'],
    ['dig without a fallback', "{{ values | dig: 'image' }}", 'dig needs'],
    ['raw cannot print an object whole', '{{ values | raw }}', 'an object'],
  ])('%s is a TEMPLATE_ERROR', (_name, template, message) => {
    expect(render(template).issues).toEqual([expect.objectContaining({ code: 'TEMPLATE_ERROR', message: expect.stringContaining(message) })]);
  });
});

describe('the filter functions', () => {
  it.each([
    ['Team_B', 'team-b'],
    ['-.lead.trail.-', 'lead.trail'],
    ['UPPER case', 'upper-case'],
  ])('normalize(%j) is %j', (input, want) => {
    expect(normalizeName(input)).toBe(want);
  });

  it.each<[string, number, boolean, string]>([
    // Argo CD documents these outcomes for its slugify (sanitize, then cut without splitting a word).
    ['feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature', 50, false, 'feat-a-really-long-pull-request-name-to-test-argo'],
    ['feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature', 53, true, 'feat-a-really-long-pull-request-name-to-test-argo'],
    ['feat/averyveryveryverylongwordthatcannotbesplitanywhereatallbecauseithasnodash', 50, true, 'feat'],
    ['feat/averyveryveryverylongwordthatcannotbesplitanywhereatallbecauseithasnodash', 50, false, 'feat-averyveryveryverylongwordthatcannotbesplitany'],
    ['release/1.2..3', 50, true, 'release-1-2-3'],
  ])('slugify(%j, %d, %j) is %j', (input, length, smart, want) => {
    expect(slugifyName(input, length, smart)).toBe(want);
  });

  it.each<[string, number, string]>([
    ['abcdef', 3, 'abc'],
    ['abcdef', -2, 'ef'],
    ['ab', 5, 'ab'],
    ['ab', -5, 'ab'],
  ])('trunc(%j, %d) is %j', (input, length, want) => {
    expect(trunc(input, length)).toBe(want);
  });

  it('dig reads own properties only', () => {
    expect(dig({}, 'constructor', 'none')).toBe('none');
  });
});
