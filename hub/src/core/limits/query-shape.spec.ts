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
    expect(measureQueryShape(parse(source))).toEqual({ depth, aliases, introspection: { depth: 0, lists: 0 } });
  });

  it('makes a fragment cycle infinitely deep', () => {
    const shape = measureQueryShape(parse('{ ...F } fragment F on Q { a { ...G } } fragment G on A { b { ...F } }'));
    expect(shape.depth).toBe(Infinity);
  });

  it('measures a chain of 5 000 fragments without recursion', () => {
    const fragments = Array.from({ length: 5000 }, (_, i) => `fragment F${i} on T { a${i < 4999 ? ` { ...F${i + 1} }` : ''} }`).join('\n');
    expect(measureQueryShape(parse(`{ ...F0 }\n${fragments}`, { maxTokens: 100_000 })).depth).toBe(5000);
  });

  it.each([
    { case: 'introspection counts one level for the API and is measured apart', source: '{ __schema { types { name } } }', depth: 1, introspection: { depth: 3, lists: 1 } },
    { case: 'the ofType chain is introspection depth, not API depth', source: '{ __type(name: "Q") { ofType { ofType { ofType { name } } } } }', depth: 1, introspection: { depth: 5, lists: 0 } },
    { case: 'nested introspection lists are counted on one path', source: '{ __schema { types { fields { args { name } } interfaces { name } } } }', depth: 1, introspection: { depth: 5, lists: 3 } },
    {
      case: 'a fragment on an introspection type counts as introspection',
      source: '{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...R } } } fragment R on __Type { ofType { name } }',
      depth: 1,
      introspection: { depth: 6, lists: 2 },
    },
    { case: 'the API part keeps its own depth beside introspection', source: '{ a { b { c } } __schema { queryType { name } } }', depth: 3, introspection: { depth: 3, lists: 0 } },
    { case: '__typename is not introspection', source: '{ a { __typename } }', depth: 2, introspection: { depth: 0, lists: 0 } },
  ])('$case', ({ source, depth, introspection }) => {
    expect(measureQueryShape(parse(source))).toEqual({ depth, aliases: 0, introspection });
  });
});
