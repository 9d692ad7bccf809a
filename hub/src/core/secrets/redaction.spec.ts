import { describe, expect, it } from 'vitest';
import { keyedMarker, PLAIN_MARKER, redactManifest, redactText } from './redaction';
import { findSecretReferences, hasMalformedSecretReference, isWholeSecretReference } from './secret-reference';

const KEY = Buffer.alloc(32, 7);
const mark = keyedMarker(KEY);

describe('keyedMarker', () => {
  it('marks a value with 8 hex digits of its HMAC, the same for the same value and key', () => {
    expect(mark('hunter2-password')).toMatch(/^<redacted:hmac:[0-9a-f]{8}>$/);
    expect(mark('hunter2-password')).toBe(keyedMarker(Buffer.alloc(32, 7))('hunter2-password'));
  });

  it('marks two values differently, so a changed secret is a changed line', () => {
    expect(mark('value-one')).not.toBe(mark('value-two'));
  });

  it('marks a value differently under another key, so a marker cannot be matched against a guess without the key', () => {
    expect(keyedMarker(Buffer.alloc(32, 8))('hunter2-password')).not.toBe(mark('hunter2-password'));
  });

  it('refuses a key shorter than 16 bytes', () => {
    expect(() => keyedMarker(Buffer.alloc(8))).toThrow(/at least 16 bytes/);
  });
});

describe('redactText', () => {
  it.each([
    { name: 'a whole-string match is replaced', text: 'p4ssw0rd-xyz', secrets: ['p4ssw0rd-xyz'], expected: '<redacted>' },
    { name: 'a long value inside a longer string is replaced', text: 'postgres://app:p4ssw0rd-xyz@db', secrets: ['p4ssw0rd-xyz'], expected: 'postgres://app:<redacted>@db' },
    { name: 'every occurrence is replaced', text: 'p4ssw0rd-xyz and p4ssw0rd-xyz', secrets: ['p4ssw0rd-xyz'], expected: '<redacted> and <redacted>' },
    { name: 'a short value is replaced only as a whole string', text: 'replicas: 42', secrets: ['42'], expected: 'replicas: 42' },
    { name: 'a short value that is the whole string is replaced', text: '42', secrets: ['42'], expected: '<redacted>' },
    { name: 'the longer of two overlapping values is replaced whole', text: 'x=secret-value-long', secrets: ['secret-value', 'secret-value-long'], expected: 'x=<redacted>' },
    { name: 'text without a secret is unchanged', text: 'nothing to see', secrets: ['p4ssw0rd-xyz'], expected: 'nothing to see' },
    { name: 'no secrets leave the text unchanged', text: 'p4ssw0rd-xyz', secrets: [], expected: 'p4ssw0rd-xyz' },
  ])('$name', ({ text, secrets, expected }) => {
    expect(redactText(text, secrets, PLAIN_MARKER)).toBe(expected);
  });
});

const secret = (fields: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, type: 'Opaque', ...fields });
const configMap = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'db' }, data });

describe('redactManifest', () => {
  it.each([
    {
      name: "a Secret's stringData values become markers of their values",
      manifest: secret({ stringData: { password: 'hunter2-password', user: 'app' } }),
      expected: secret({ stringData: { password: mark('hunter2-password'), user: mark('app') } }),
    },
    {
      name: "a Secret's base64 data values become markers",
      manifest: secret({ data: { password: 'aHVudGVyMg==' } }),
      expected: secret({ data: { password: mark('aHVudGVyMg==') } }),
    },
    {
      name: 'a secret reference in a Secret stays (it is not secret)',
      manifest: secret({ data: { password: '((secret:shop/db-source/password))' } }),
      expected: secret({ data: { password: '((secret:shop/db-source/password))' } }),
    },
    {
      name: "an empty Secret value stays empty",
      manifest: secret({ stringData: { empty: '' } }),
      expected: secret({ stringData: { empty: '' } }),
    },
    {
      name: "a Secret's metadata, type and labels stay",
      manifest: { ...secret({ data: { k: 'dmFsdWU=' } }), metadata: { name: 'db', labels: { password: 'visible' } } },
      expected: { ...secret({ data: { k: mark('dmFsdWU=') } }), metadata: { name: 'db', labels: { password: 'visible' } } },
    },
    {
      name: 'a ConfigMap keeps its values even under keys named password or token',
      manifest: configMap({ password: 'not-a-secret', token: 'plain' }),
      expected: configMap({ password: 'not-a-secret', token: 'plain' }),
    },
    {
      name: 'a Secret kind of another API group is not a core Secret',
      manifest: { apiVersion: 'example.com/v1', kind: 'Secret', metadata: { name: 'x' }, data: { v: 'kept-value' } },
      expected: { apiVersion: 'example.com/v1', kind: 'Secret', metadata: { name: 'x' }, data: { v: 'kept-value' } },
    },
  ])('$name', ({ manifest, expected }) => {
    expect(redactManifest(manifest, [], mark)).toEqual(expected);
  });

  it('replaces a value of a secret parameter wherever it was rendered, and nothing else', () => {
    const manifest = configMap({ url: 'postgres://app:hunter2-password@db', replicas: '3' });
    expect(redactManifest(manifest, ['hunter2-password'], mark)).toEqual(configMap({ url: `postgres://app:${mark('hunter2-password')}@db`, replicas: '3' }));
  });

  it('never changes its input', () => {
    const manifest = secret({ stringData: { password: 'hunter2-password' } });
    const copy = structuredClone(manifest);
    redactManifest(manifest, ['hunter2-password'], mark);
    expect(manifest).toEqual(copy);
  });
});

describe('secret references', () => {
  it.each([
    { text: '((secret:shop/db/password))', found: [{ namespace: 'shop', name: 'db', key: 'password' }], whole: true },
    { text: 'postgres://app:((secret:shop/db/password))@db', found: [{ namespace: 'shop', name: 'db', key: 'password' }], whole: false },
    { text: '((secret:a/b.c/tls.crt)) ((secret:d/e/F_G-1))', found: [{ namespace: 'a', name: 'b.c', key: 'tls.crt' }, { namespace: 'd', name: 'e', key: 'F_G-1' }], whole: false },
    { text: '$((1 + 2))', found: [], whole: false },
    { text: '((secret:Shop/db/password))', found: [], whole: false },
    { text: '((secret:shop/db))', found: [], whole: false },
    { text: '{{ password }}', found: [], whole: false },
  ])('"$text" holds $found.length reference(s)', ({ text, found, whole }) => {
    expect(findSecretReferences(text).map(({ namespace, name, key }) => ({ namespace, name, key }))).toEqual(found);
    expect(isWholeSecretReference(text)).toBe(whole);
  });

  it.each([
    { text: '((secret:shop/db))', malformed: true },
    { text: '((secret:shop/db/pass word))', malformed: true },
    { text: '((secret:shop/db/password)) and ((secret:bad))', malformed: true },
    { text: '((secret:shop/db/password))', malformed: false },
    { text: 'no reference at all', malformed: false },
  ])('"$text" malformed: $malformed', ({ text, malformed }) => {
    expect(hasMalformedSecretReference(text)).toBe(malformed);
  });
});
