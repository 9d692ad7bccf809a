import { describe, expect, it } from 'vitest';
import { findSecretReferences } from '@flotilla/proto';
import { redactValues, referencedSecrets, referencesOutsideScope, resolveSecretReferences, type SecretSources } from './secret-references.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const PASSWORD = 'canary-pa55word';
const sources: SecretSources = new Map([
  ['shop/db', { password: b64(PASSWORD), binary: 'AAEC/w==' }],
  ['shop/gone', undefined],
]);

const secret = (fields: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-db', namespace: 'shop' }, ...fields });
const configMap = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'shop' }, data });

describe('findSecretReferences (the hub grammar)', () => {
  it.each([
    { text: '((secret:shop/db/password))', count: 1 },
    { text: 'postgres://app:((secret:shop/db/password))@db:5432', count: 1 },
    { text: '$((1 + 2)) and $(HOME)', count: 0 },
    { text: '((secret:Shop/db/password))', count: 0 },
    { text: '((secret:shop/db))', count: 0 },
  ])('"$text" holds $count reference(s)', ({ text, count }) => {
    expect(findSecretReferences(text)).toHaveLength(count);
  });
});

describe('resolveSecretReferences', () => {
  it.each([
    {
      name: "a whole reference in a Secret's data becomes the source's base64 value",
      body: secret({ data: { password: '((secret:shop/db/password))' } }),
      expected: secret({ data: { password: b64(PASSWORD) } }),
    },
    {
      name: 'binary data survives, as base64',
      body: secret({ data: { blob: '((secret:shop/db/binary))' } }),
      expected: secret({ data: { blob: 'AAEC/w==' } }),
    },
    {
      name: 'a reference in stringData becomes the decoded value, inside text too',
      body: secret({ stringData: { url: 'postgres://app:((secret:shop/db/password))@db' } }),
      expected: secret({ stringData: { url: `postgres://app:${PASSWORD}@db` } }),
    },
    {
      name: 'a reference in another kind becomes the decoded value',
      body: configMap({ v: '((secret:shop/db/password))' }),
      expected: configMap({ v: PASSWORD }),
    },
    {
      name: 'an object without a reference is returned as it was',
      body: configMap({ v: 'plain' }),
      expected: configMap({ v: 'plain' }),
    },
  ])('$name', ({ body, expected }) => {
    const result = resolveSecretReferences([body], sources);
    expect(result.ok && result.bodies).toEqual([expected]);
  });

  it.each([
    { name: 'a missing Secret', body: configMap({ v: '((secret:shop/gone/password))' }), problem: 'secret reference ((secret:shop/gone/password)): Secret shop/gone not found' },
    { name: 'a Secret never read', body: configMap({ v: '((secret:shop/other/password))' }), problem: 'secret reference ((secret:shop/other/password)): Secret shop/other not found' },
    { name: 'a missing key', body: configMap({ v: '((secret:shop/db/user))' }), problem: 'secret reference ((secret:shop/db/user)): Secret shop/db has no key "user"' },
    { name: 'a reference among other text in base64 data', body: secret({ data: { v: 'x((secret:shop/db/password))' } }), problem: 'Secret app-db data.v: a secret reference in data must be the whole value' },
  ])('fails on $name, without a value in the problem', ({ body, problem }) => {
    const result = resolveSecretReferences([body], sources);
    expect(result).toEqual({ ok: false, problems: [problem] });
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(JSON.stringify(result)).not.toContain(b64(PASSWORD));
  });

  it('reports the values it put in place, decoded and base64, for messages to leave out', () => {
    const result = resolveSecretReferences([configMap({ v: '((secret:shop/db/password))' }), secret({ data: { p: '((secret:shop/db/password))' } })], sources);
    expect(result.ok && [...result.values].sort()).toEqual([b64(PASSWORD), PASSWORD].sort());
  });

  it('never mutates its input', () => {
    const body = secret({ data: { password: '((secret:shop/db/password))' } });
    const copy = structuredClone(body);
    resolveSecretReferences([body], sources);
    expect(body).toEqual(copy);
  });
});

describe('referencedSecrets and referencesOutsideScope', () => {
  const bodies = [configMap({ a: '((secret:shop/db/password))', b: '((secret:shop/db/user))' }), configMap({ c: '((secret:kube-system/admin/token))' })];

  it('lists each referenced Secret once, sorted', () => {
    expect(referencedSecrets(bodies).map((r) => `${r.namespace}/${r.name}`)).toEqual(['kube-system/admin', 'shop/db']);
  });

  it.each([
    { name: 'both scopes allow the namespace', scopes: { app: { namespaces: ['shop'], kinds: [], clusterScoped: false }, project: { namespaces: ['*'], kinds: [], clusterScoped: false } }, outside: [] },
    { name: "the project's scope does not allow the namespace", scopes: { project: { namespaces: ['team-*'], kinds: [], clusterScoped: false } }, outside: ['shop'] },
    { name: 'no scope: only the App namespace', scopes: {}, outside: [] },
  ])('$name', ({ scopes, outside }) => {
    const problems = referencesOutsideScope(referencedSecrets([bodies[0]!]), scopes, 'shop');
    expect(problems.map((p) => /namespace "([^"]+)"/.exec(p)?.[1])).toEqual(outside);
  });

  it('refuses a Secret of another namespace when no scope is given', () => {
    expect(referencesOutsideScope(referencedSecrets(bodies), {}, 'shop')).toEqual(['secret reference ((secret:kube-system/admin/token)): namespace "kube-system" is outside the App\'s namespaces']);
  });
});

describe('redactValues', () => {
  it('replaces every resolved value in a message, longest first', () => {
    expect(redactValues(`Secret "x" is invalid: data[p]: ${PASSWORD} (${b64(PASSWORD)})`, [PASSWORD, b64(PASSWORD)])).toBe('Secret "x" is invalid: data[p]: <redacted> (<redacted>)');
  });
});
