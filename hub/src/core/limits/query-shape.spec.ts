import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { measureQueryShape } from './query-shape';

describe('measureQueryShape', () => {
  it.each([
    { case: 'one field', source: '{ a }', depth: 1, aliases: 0 },
    { case: 'a nested selection', source: '{ a { b { c } } d }', depth: 3, aliases: 0 },
    { case: 'aliases at every level', source: '{ x: a { y: b } z: a { b } }', depth: 2, aliases: 3 },
    { case: 'an inline fragment adds no level', source: '{ a { ... on A { b { c } } } }', depth: 3, aliases: 0 },
    { case: 'a fragment spread below two fields', source: '{ a { b { ...F } } } fragment F on B { c { d } }', depth: 4, aliases: 0 },
    { case: 'fragments spreading fragments', source: '{ ...F } fragment F on Q { a { ...G } } fragment G on A { b { ...H } } fragment H on B { c }', depth: 3, aliases: 0 },
    { case: 'the deepest of several operations', source: 'query A { a } query B { a { b { c } } }', depth: 3, aliases: 0 },
    { case: 'an alias in a fragment counts once', source: '{ ...F ...F } fragment F on Q { x: a }', depth: 1, aliases: 1 },
    { case: 'a spread of an unknown fragment adds nothing', source: '{ a { ...Missing } }', depth: 1, aliases: 0 },
  ])('$case', ({ source, depth, aliases }) => {
    expect(measureQueryShape(parse(source))).toEqual({ depth, aliases });
  });

  it('makes a fragment cycle infinitely deep', () => {
    const shape = measureQueryShape(parse('{ ...F } fragment F on Q { a { ...G } } fragment G on A { b { ...F } }'));
    expect(shape.depth).toBe(Infinity);
  });

  it('measures a chain of 5 000 fragments without recursion', () => {
    const fragments = Array.from({ length: 5000 }, (_, i) => `fragment F${i} on T { a${i < 4999 ? ` { ...F${i + 1} }` : ''} }`).join('\n');
    expect(measureQueryShape(parse(`{ ...F0 }\n${fragments}`, { maxTokens: 100_000 })).depth).toBe(5000);
  });
});
