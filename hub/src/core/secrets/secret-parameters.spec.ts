import { describe, expect, it } from 'vitest';
import type { AppSetDocument } from '../app-set/app-set-spec';
import { checkSecrets } from './check-secrets';
import { PLAIN_MARKER } from './redaction';
import { redactAppSetDocument, secretParameterValues } from './secret-parameters';

describe('secretParameterValues', () => {
  it.each([
    { name: 'a marked top-level parameter', params: { dbPassword: 'hunter2-password', other: 'x' }, paths: ['dbPassword'], expected: [{ path: 'dbPassword', value: 'hunter2-password' }] },
    { name: 'a marked nested path', params: { cluster: { values: { apiKey: 'k-123456' } } }, paths: ['cluster.values.apiKey'], expected: [{ path: 'cluster.values.apiKey', value: 'k-123456' }] },
    { name: 'every leaf under a marked object, numbers as text', params: { db: { user: 'app', pin: 1234 } }, paths: ['db'], expected: [{ path: 'db', value: '1234' }, { path: 'db', value: 'app' }] },
    { name: 'a reference is not a secret value', params: { dbPassword: '((secret:shop/db/password))' }, paths: ['dbPassword'], expected: [] },
    { name: 'a missing path has no value', params: { other: 'x' }, paths: ['dbPassword'], expected: [] },
    { name: 'an empty value is not a secret', params: { dbPassword: '' }, paths: ['dbPassword'], expected: [] },
    { name: 'no marked paths, no values', params: { dbPassword: 'hunter2-password' }, paths: [], expected: [] },
  ])('$name', ({ params, paths, expected }) => {
    expect(secretParameterValues(params, paths)).toEqual(expected);
  });
});

const doc = (spec: Partial<AppSetDocument['spec']>): AppSetDocument => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'AppSet',
  metadata: { name: 'web' },
  spec: { generators: [{ clusters: {} }], template: { manifests: [] }, ...spec },
});

describe('redactAppSetDocument', () => {
  it('redacts literal Secret data of inline manifests and keeps references', () => {
    const document = doc({
      template: {
        manifests: [
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'hunter2-password', ref: '((secret:shop/db/password))' } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { password: 'visible' } },
        ],
      },
    });
    const shown = redactAppSetDocument(document, PLAIN_MARKER);
    expect(shown.spec.template.manifests).toEqual([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: '<redacted>', ref: '((secret:shop/db/password))' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { password: 'visible' } },
    ]);
  });

  it('redacts the values of marked parameters in list elements, in matrix children, and wherever else they are written', () => {
    const document = doc({
      secrets: { parameters: ['dbPassword', 'values.token'] },
      generators: [
        { matrix: { generators: [{ list: { elements: [{ dbPassword: 'hunter2-password', size: 'small' }] } }, { clusters: { values: { token: 'tok-abcdef' } } }] } },
      ],
      template: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { copied: 'x-hunter2-password-y', size: '{{ size }}' } }] },
    });
    const shown = JSON.stringify(redactAppSetDocument(document, PLAIN_MARKER));
    expect(shown).not.toContain('hunter2-password');
    expect(shown).not.toContain('tok-abcdef');
    expect(shown).toContain('"size":"small"');
    expect(shown).toContain('x-<redacted>-y');
  });

  it('redacts Secret data in override patches that name kind Secret or no kind, not in those of other kinds', () => {
    const document = doc({
      template: {
        manifests: [],
        overrides: [
          { patch: { kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'patched-secret' } } },
          { patch: { data: { password: 'kindless-secret' } } },
          { patch: { kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { password: 'plain-config' } } },
        ],
      },
    });
    const shown = redactAppSetDocument(document, PLAIN_MARKER).spec.template.overrides!.map((o) => o.patch);
    expect(shown).toEqual([
      { kind: 'Secret', metadata: { name: 'db' }, stringData: { password: '<redacted>' } },
      { data: { password: '<redacted>' } },
      { kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { password: 'plain-config' } },
    ]);
  });
});

const secretManifest = (fields: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, ...fields });

describe('checkSecrets', () => {
  it.each([
    { name: 'a literal stringData value is refused', manifests: [secretManifest({ stringData: { password: 'hunter2-password' } })], marked: [], allowInline: false, codes: ['INLINE_SECRET'] },
    { name: 'a literal data value is refused', manifests: [secretManifest({ data: { password: 'aHVudGVy' } })], marked: [], allowInline: false, codes: ['INLINE_SECRET'] },
    { name: 'a whole reference in data is accepted', manifests: [secretManifest({ data: { password: '((secret:shop/src/password))' } })], marked: [], allowInline: false, codes: [] },
    { name: 'a reference embedded in stringData text is accepted', manifests: [secretManifest({ stringData: { url: 'postgres://app:((secret:shop/src/pw))@db' } })], marked: [], allowInline: false, codes: [] },
    { name: 'a reference among other text in base64 data is invalid', manifests: [secretManifest({ data: { url: 'x((secret:shop/src/pw))' } })], marked: [], allowInline: true, codes: ['SECRET_REFERENCE_INVALID'] },
    { name: 'a malformed reference anywhere is invalid', manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { v: '((secret:shop/x))' } }], marked: [], allowInline: false, codes: ['SECRET_REFERENCE_INVALID'] },
    { name: 'a literal value of a marked parameter is refused', manifests: [], marked: [{ path: 'dbPassword', value: 'hunter2-password' }], allowInline: false, codes: ['INLINE_SECRET'] },
    { name: 'allowInline accepts literal Secret data and marked parameters', manifests: [secretManifest({ stringData: { password: 'hunter2-password' } })], marked: [{ path: 'dbPassword', value: 'hunter2-password' }], allowInline: true, codes: [] },
    { name: 'an empty Secret value is accepted', manifests: [secretManifest({ stringData: { password: '' } })], marked: [], allowInline: false, codes: [] },
  ])('$name', ({ manifests, marked, allowInline, codes }) => {
    expect(checkSecrets(manifests, marked, { allowInline }).map((i) => i.code)).toEqual(codes);
  });

  it('never echoes the value it refuses', () => {
    const issues = checkSecrets([secretManifest({ stringData: { password: 'hunter2-password' } })], [{ path: 'dbPassword', value: 'hunter2-password' }], undefined);
    expect(issues).toHaveLength(2);
    expect(JSON.stringify(issues)).not.toContain('hunter2-password');
    expect(issues.map((i) => i.message)).toEqual([expect.stringContaining('Secret shop/db holds a literal value at stringData.password'), expect.stringContaining('Parameter dbPassword is marked secret')]);
  });
});
