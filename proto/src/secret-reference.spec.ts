import { describe, expect, it } from 'vitest';
import { findSecretReferences, hasMalformedSecretReference, isWholeSecretReference, replaceSecretReferences } from './secret-reference.js';

describe('secret references', () => {
  it.each([
    { text: '((secret:shop/db/password))', found: ['shop/db/password'], whole: true, malformed: false },
    { text: 'postgres://app:((secret:shop/db/password))@db', found: ['shop/db/password'], whole: false, malformed: false },
    { text: '((secret:a/b/c)) and ((secret:d/e.f/G_h-1))', found: ['a/b/c', 'd/e.f/G_h-1'], whole: false, malformed: false },
    { text: '((secret:Shop/db/password))', found: [], whole: false, malformed: true },
    { text: '((secret:shop/db))', found: [], whole: false, malformed: true },
    { text: '{{ secret }} $(SECRET) (secret:a/b/c)', found: [], whole: false, malformed: false },
  ])('$text', ({ text, found, whole, malformed }) => {
    expect(findSecretReferences(text).map((r) => `${r.namespace}/${r.name}/${r.key}`)).toEqual(found);
    expect(isWholeSecretReference(text)).toBe(whole);
    expect(hasMalformedSecretReference(text)).toBe(malformed);
  });

  it('replaces each well-formed reference and leaves the rest of the text', () => {
    expect(replaceSecretReferences('u:((secret:a/b/c))@h ((secret:X/y/z))', (r) => `<${r.key}>`)).toBe('u:<c>@h ((secret:X/y/z))');
  });
});
