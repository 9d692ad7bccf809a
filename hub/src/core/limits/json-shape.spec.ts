import { describe, expect, it } from 'vitest';
import { checkJson, jsonTextDepth } from './json-shape';

const deep = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = { a: value };
  return value;
};

describe('checkJson', () => {
  it.each([
    { case: 'a flat object', value: { name: 'x', n: 1, ok: true, none: null }, want: undefined },
    { case: 'a scalar', value: 'text', want: undefined },
    { case: 'objects four deep when four are allowed', value: deep(4), want: undefined },
    { case: 'objects five deep when four are allowed', value: deep(5), want: { kind: 'too-deep', limit: 4 } },
    { case: 'arrays five deep', value: [[[[[1]]]]], want: { kind: 'too-deep', limit: 4 } },
    { case: 'a string longer than the size limit', value: { s: 'x'.repeat(2000) }, want: { kind: 'too-large', limit: 1000 } },
    { case: 'many small members adding up past the size limit', value: Array.from({ length: 500 }, () => 1), want: { kind: 'too-large', limit: 1000 } },
  ])('$case', ({ value, want }) => {
    expect(checkJson(value, { maxDepth: 4, maxBytes: 1000 })).toEqual(want);
  });

  it('refuses 100 000 levels of nesting without exhausting the stack', () => {
    expect(checkJson(deep(100_000), { maxDepth: 64, maxBytes: 1_000_000 })).toEqual({ kind: 'too-deep', limit: 64 });
  });
});

describe('jsonTextDepth', () => {
  it.each([
    { case: 'a scalar', text: '1', depth: 0 },
    { case: 'an object holding an array', text: '{"a":[1,2]}', depth: 2 },
    { case: 'brackets inside strings, escaped quotes included', text: '{"a":"[[[{{\\"[[["}', depth: 1 },
    { case: 'siblings do not add up', text: '[[1],[2],[3]]', depth: 2 },
    { case: 'deeper than the limit stops at limit + 1', text: '['.repeat(100_000) + ']'.repeat(100_000), depth: 11 },
  ])('$case', ({ text, depth }) => {
    expect(jsonTextDepth(text, 10)).toBe(depth);
  });
});
