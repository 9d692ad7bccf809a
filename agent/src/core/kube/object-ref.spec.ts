import { describe, expect, it } from 'vitest';
import { appLabelValue, appOfObject, appSelector, describeRef, parseApiVersion, refOf } from './object-ref.js';

describe('parseApiVersion', () => {
  it.each([
    { name: 'a bare version is the core group', apiVersion: 'v1', want: { group: '', version: 'v1' } },
    { name: 'group/version splits at the slash', apiVersion: 'apps/v1', want: { group: 'apps', version: 'v1' } },
    { name: 'an empty string is malformed', apiVersion: '', want: undefined },
    { name: 'a missing version is malformed', apiVersion: 'apps/', want: undefined },
    { name: 'two slashes are malformed', apiVersion: 'a/b/c', want: undefined },
  ])('$name', ({ apiVersion, want }) => {
    expect(parseApiVersion(apiVersion)).toEqual(want);
  });
});

describe('appLabelValue', () => {
  it('keeps a name that is a valid label value', () => {
    expect(appLabelValue('web')).toBe('web');
  });

  it('shortens a long name to 63 characters with a hash that tells long names apart', () => {
    const a = appLabelValue(`${'a'.repeat(60)}.one`);
    const b = appLabelValue(`${'a'.repeat(60)}.two`);
    expect(a).toHaveLength(63);
    expect(b).toHaveLength(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
    expect(appLabelValue(`${'a'.repeat(60)}.one`)).toBe(a);
  });

  it('selects managed objects of one App', () => {
    expect(appSelector('web')).toBe('app.kubernetes.io/managed-by=flotilla,flotilla.dev/app=web');
  });
});

describe('refOf and describeRef', () => {
  it('names a namespaced object of a named group', () => {
    const ref = refOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' } });
    expect(ref).toEqual({ apiVersion: 'example.com/v1', group: 'example.com', version: 'v1', kind: 'Widget', namespace: 'shop', name: 'w' });
    expect(ref && describeRef(ref)).toBe('Widget.example.com shop/w');
  });

  it('names a cluster-scoped core object without a namespace', () => {
    expect(describeRef({ group: '', kind: 'Namespace', namespace: '', name: 'shop' })).toBe('Namespace shop');
  });

  it('has no ref for an object without a name', () => {
    expect(refOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} })).toBeUndefined();
  });
});

describe('appOfObject', () => {
  const managed = { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/app': 'short' };
  it.each([
    { name: 'the annotation names the App when present', metadata: { labels: managed, annotations: { 'flotilla.dev/app': 'full-name' } }, want: 'full-name' },
    { name: 'the label names the App without an annotation', metadata: { labels: managed }, want: 'short' },
    { name: 'an object without the managed-by label belongs to no App', metadata: { labels: { 'flotilla.dev/app': 'web' } }, want: undefined },
  ])('$name', ({ metadata, want }) => {
    expect(appOfObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata })).toBe(want);
  });
});
