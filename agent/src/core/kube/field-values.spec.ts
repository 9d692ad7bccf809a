import { describe, expect, it } from 'vitest';
import { formatPath, type PathSegment } from './field-diff.js';
import { isCanonicalFieldPath, parseFieldPath, valueAt, withValueAt } from './field-values.js';

const key = (k: string): PathSegment => ({ kind: 'key', key: k });
const item = (name: string): PathSegment => ({ kind: 'item', name });

const deployment = {
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'web:1' }, { name: 'side', image: 'side:1' }] } } },
  data: { 'app.conf': 'x=1' },
};

describe('valueAt', () => {
  it.each([
    { name: 'a scalar under maps is found', path: [key('spec'), key('replicas')], want: { found: true, value: 2 } },
    { name: 'a named list item is picked by its name', path: [key('spec'), key('template'), key('spec'), key('containers'), item('side'), key('image')], want: { found: true, value: 'side:1' } },
    { name: 'a key with dots is one step', path: [key('data'), key('app.conf')], want: { found: true, value: 'x=1' } },
    { name: 'a missing key is not found', path: [key('spec'), key('paused')], want: { found: false } },
    { name: 'a missing list item is not found', path: [key('spec'), key('template'), key('spec'), key('containers'), item('db')], want: { found: false } },
    { name: 'a key step through a scalar is not found', path: [key('spec'), key('replicas'), key('x')], want: { found: false } },
    { name: 'the empty path is the object itself', path: [], want: { found: true, value: deployment } },
  ])('$name', ({ path, want }) => {
    expect(valueAt(deployment, path)).toEqual(want);
  });
});

describe('withValueAt', () => {
  it.each([
    { name: 'replaces a scalar', path: [key('spec'), key('replicas')], value: 5, read: [key('spec'), key('replicas')] },
    { name: 'adds a missing key and the maps on its way', path: [key('metadata'), key('labels'), key('tier')], value: 'gold', read: [key('metadata'), key('labels'), key('tier')] },
    { name: 'changes a field of a named list item', path: [key('spec'), key('template'), key('spec'), key('containers'), item('web'), key('image')], value: 'web:2', read: [key('spec'), key('template'), key('spec'), key('containers'), item('web'), key('image')] },
    { name: 'appends a missing named item', path: [key('spec'), key('template'), key('spec'), key('containers'), item('db'), key('image')], value: 'db:1', read: [key('spec'), key('template'), key('spec'), key('containers'), item('db'), key('image')] },
  ])('$name and leaves the input as it was', ({ path, value, read }) => {
    const before = JSON.stringify(deployment);
    const changed = withValueAt(deployment, path, value);
    expect(valueAt(changed, read)).toEqual({ found: true, value });
    expect(JSON.stringify(deployment)).toBe(before);
  });

  it('keeps the other items of a named list in place', () => {
    const changed = withValueAt(deployment, [key('spec'), key('template'), key('spec'), key('containers'), item('web'), key('image')], 'web:2');
    expect(valueAt(changed, [key('spec'), key('template'), key('spec'), key('containers')])).toEqual({
      found: true,
      value: [{ name: 'web', image: 'web:2' }, { name: 'side', image: 'side:1' }],
    });
  });
});

describe('parseFieldPath', () => {
  it.each([
    { text: 'spec.replicas', want: [key('spec'), key('replicas')] },
    { text: 'data["app.conf"]', want: [key('data'), key('app.conf')] },
    { text: 'spec.template.spec.containers[name=web].image', want: [key('spec'), key('template'), key('spec'), key('containers'), item('web'), key('image')] },
    { text: 'metadata.labels["app.kubernetes.io/name"]', want: [key('metadata'), key('labels'), key('app.kubernetes.io/name')] },
    { text: 'data["a\\"]b"]', want: [key('data'), key('a"]b')] },
  ])('reads $text', ({ text, want }) => {
    expect(parseFieldPath(text)).toEqual(want);
    expect(formatPath(want)).toBe(text);
    expect(isCanonicalFieldPath(text)).toBe(true);
  });

  it.each([
    { name: 'the empty text', text: '' },
    { name: 'an empty key between dots', text: 'spec..replicas' },
    { name: 'a trailing dot', text: 'spec.' },
    { name: 'an unclosed bracket', text: 'spec.containers[name=web' },
    { name: 'a bracket that is neither a quoted key nor a name', text: 'spec.containers[0]' },
    { name: 'a quoted key that is not JSON', text: "data['x']" },
  ])('refuses $name', ({ text }) => {
    expect(parseFieldPath(text)).toBeUndefined();
  });
});
