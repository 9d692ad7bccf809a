import { LIMITS } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { describeDriftValues, isSecretField, redactSecretPaths } from './drift-values.js';
import { driftedFields, formatPath, type DriftedField, type PathSegment } from './field-diff.js';
import { parseFieldPath } from './field-values.js';

const configMap = { apiVersion: 'v1', kind: 'ConfigMap' };
const secret = { apiVersion: 'v1', kind: 'Secret' };
const path = (text: string) => parseFieldPath(text)!;

describe('describeDriftValues', () => {
  it('gives both sides of every drifted field as compact JSON, in the order of the fields', () => {
    const applied = { kind: 'Deployment', spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'web:1', resources: { limits: { cpu: '1' } } }] } } } };
    const live = { kind: 'Deployment', spec: { replicas: 5, template: { spec: { containers: [{ name: 'web', image: 'web:2', resources: { limits: { cpu: '2' } } }] } } } };
    const fields = driftedFields(applied, applied, live);
    expect(describeDriftValues({ ref: { apiVersion: 'apps/v1', kind: 'Deployment' }, fields, declared: undefined, expected: applied, live })).toEqual([
      { path: 'spec.replicas', expected: '2', live: '5', redacted: false },
      { path: 'spec.template.spec.containers[name=web].image', expected: '"web:1"', live: '"web:2"', redacted: false },
      { path: 'spec.template.spec.containers[name=web].resources.limits.cpu', expected: '"1"', live: '"2"', redacted: false },
    ]);
  });

  it('leaves out the side where the field is absent', () => {
    const applied = { data: { color: 'blue' } };
    const fields = driftedFields(applied, applied, { data: {} });
    expect(describeDriftValues({ ref: configMap, fields, declared: undefined, expected: applied, live: { data: {} } })).toEqual([{ path: 'data.color', expected: '"blue"', redacted: false }]);
  });

  it('cuts a long value to the limit with a marker', () => {
    const long = 'x'.repeat(LIMITS.maxDriftValueChars * 2);
    const applied = { data: { blob: long } };
    const live = { data: { blob: 'short' } };
    const [value] = describeDriftValues({ ref: configMap, fields: driftedFields(applied, applied, live), declared: undefined, expected: applied, live });
    expect(value?.expected).toHaveLength(LIMITS.maxDriftValueChars);
    expect(value?.expected?.endsWith('…[truncated]')).toBe(true);
    expect(value?.live).toBe('"short"');
  });

  const secretValue = 's3cr3t-password';
  it.each([
    {
      name: 'a field of a Secret under data is redacted',
      ref: secret,
      declared: undefined,
      applied: { data: { password: 'YQ==' } },
      live: { data: { password: 'Yg==' } },
      secretValues: [],
    },
    {
      name: 'a field of a Secret under stringData is redacted',
      ref: secret,
      declared: undefined,
      applied: { stringData: { password: 'a' } },
      live: { stringData: { password: 'b' } },
      secretValues: [],
    },
    {
      name: 'a ConfigMap value filled in from a secret reference is redacted',
      ref: configMap,
      declared: { data: { url: 'postgres://app:((secret:shop/db/password))@db' } },
      applied: { data: { url: `postgres://app:${secretValue}@db` } },
      live: { data: { url: 'postgres://app:other@db' } },
      secretValues: [secretValue],
    },
    {
      name: 'a whole container whose env holds a secret reference is redacted when it is missing live',
      ref: { apiVersion: 'apps/v1', kind: 'Deployment' },
      declared: { spec: { containers: [{ name: 'web', env: [{ name: 'TOKEN', value: '((secret:shop/api/token))' }] }] } },
      applied: { spec: { containers: [{ name: 'web', env: [{ name: 'TOKEN', value: secretValue }] }] } },
      live: { spec: { containers: [] } },
      secretValues: [secretValue],
    },
    {
      name: 'a live value that contains a resolved secret value is redacted even where no reference was declared',
      ref: configMap,
      declared: { data: { url: '((secret:shop/db/password))', note: 'plain' } },
      applied: { data: { url: secretValue, note: 'plain' } },
      live: { data: { url: secretValue, note: `copied ${secretValue}` } },
      secretValues: [secretValue],
    },
  ])('$name, with no value sent', ({ ref, declared, applied, live, secretValues }) => {
    const fields = driftedFields(applied, applied, live);
    expect(fields.length).toBeGreaterThan(0);
    const values = describeDriftValues({ ref, fields, declared, expected: applied, live, secretValues });
    expect(values.map((v) => v.redacted)).toEqual(fields.map(() => true));
    const sent = JSON.stringify(values);
    expect(sent).not.toContain(secretValue);
    for (const v of values) expect(Object.keys(v).sort()).toEqual(['path', 'redacted']);
  });

  it('sends the values of other fields of an object that also holds a secret reference', () => {
    const declared = { data: { url: '((secret:shop/db/password))', color: 'blue' } };
    const applied = { data: { url: secretValue, color: 'blue' } };
    const live = { data: { url: secretValue, color: 'red' } };
    expect(describeDriftValues({ ref: configMap, fields: driftedFields(applied, applied, live), declared, expected: applied, live, secretValues: [secretValue] })).toEqual([
      { path: 'data.color', expected: '"blue"', live: '"red"', redacted: false },
    ]);
  });
});

describe('isSecretField', () => {
  it.each([
    { name: 'data of a core Secret', ref: secret, declared: undefined, path: 'data.password', want: true },
    { name: 'stringData of a core Secret', ref: secret, declared: undefined, path: 'stringData.password', want: true },
    { name: 'a label of a core Secret', ref: secret, declared: undefined, path: 'metadata.labels.tier', want: false },
    { name: 'data of a Secret-named custom kind', ref: { apiVersion: 'example.com/v1', kind: 'Secret' }, declared: undefined, path: 'data.password', want: false },
    { name: 'a ConfigMap field without a declared reference', ref: configMap, declared: undefined, path: 'data.color', want: false },
    { name: 'a field declared with a reference', ref: configMap, declared: { data: { url: 'x((secret:a/b/c))' } }, path: 'data.url', want: true },
    { name: 'a map holding a reference below it', ref: configMap, declared: { data: { url: '((secret:a/b/c))' } }, path: 'data', want: true },
    { name: 'a field the declared object lacks while it holds a reference', ref: configMap, declared: { data: { url: '((secret:a/b/c))' } }, path: 'data.other', want: true },
    { name: 'a field the declared object lacks while it holds no reference', ref: configMap, declared: { data: { url: 'plain' } }, path: 'data.other', want: false },
  ])('$name: $want', ({ ref, declared, path: text, want }) => {
    expect(isSecretField(ref, declared, path(text))).toBe(want);
  });
});

describe('redactSecretPaths', () => {
  const field = (...segments: PathSegment[]): DriftedField => ({ segments, path: formatPath(segments) });
  const key = (k: string): PathSegment => ({ kind: 'key', key: k });
  const item = (name: string): PathSegment => ({ kind: 'item', name });
  it.each([
    { case: 'an item named by a secret value shows (secret) instead', secrets: ['db-pass'], name: 'db-pass', path: 'spec.template.spec.containers[name=(secret)].image' },
    { case: 'an item whose name holds a secret of four or more characters too', secrets: ['hunter2'], name: 'sidecar-hunter2', path: 'spec.template.spec.containers[name=(secret)].image' },
    { case: 'a short secret only when it is the whole name', secrets: ['ab'], name: 'cable', path: 'spec.template.spec.containers[name=cable].image' },
    { case: 'a short secret that is the whole name', secrets: ['ab'], name: 'ab', path: 'spec.template.spec.containers[name=(secret)].image' },
    { case: 'names without secrets are kept', secrets: ['hunter2'], name: 'web', path: 'spec.template.spec.containers[name=web].image' },
    { case: 'nothing changes without secret values', secrets: [], name: 'hunter2', path: 'spec.template.spec.containers[name=hunter2].image' },
  ])('$case', ({ secrets, name, path }) => {
    const drifted = field(key('spec'), key('template'), key('spec'), key('containers'), item(name), key('image'));
    const [shown] = redactSecretPaths([drifted], secrets);
    expect(shown!.path).toBe(path);
  });

  it('keeps the order and the fields that need nothing, and changes no input', () => {
    const fields = [field(key('data'), key('color')), field(key('spec'), key('containers'), item('s3cr3t-name'), key('image'))];
    const copy = JSON.parse(JSON.stringify(fields)) as unknown;
    expect(redactSecretPaths(fields, ['s3cr3t-name']).map((f) => f.path)).toEqual(['data.color', 'spec.containers[name=(secret)].image']);
    expect(fields).toEqual(copy);
  });
});
