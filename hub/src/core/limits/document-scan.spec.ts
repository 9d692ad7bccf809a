import { describe, expect, it } from 'vitest';
import { scanDocument, type DocumentScanLimits } from './document-scan';

const LIMITS: DocumentScanLimits = { maxTokens: 200, maxAliases: 3, maxDepth: 4, maxValueDepth: 5 };
const nest = (open: string, close: string, levels: number, inner: string) => open.repeat(levels) + inner + close.repeat(levels);

describe('scanDocument', () => {
  it.each([
    { case: 'a plain query', source: '{ clusters(first: 10) { name apps { name } } }' },
    { case: 'three aliases', source: '{ a: cluster(name: "a") { name } b: cluster(name: "b") { name } c: me { actor } }' },
    { case: 'arguments, variable definitions and object literals (their colons are not aliases)', source: 'query($n: String!, $l: JSONObject = { a: 1, b: 2 }) { cluster(name: $n) { name } x(y: { p: 1, q: [1, 2] }) }' },
    { case: 'selections four deep', source: nest('{ a ', '}', 3, '{ b }') },
    { case: 'a literal five deep', source: `{ a(x: ${nest('{ k: ', '}', 5, '1')}) }` },
    { case: 'braces and colons inside strings and comments', source: '# { a: b: c: d: e:\n{ a(x: "{{{{{{{{{ a: b: c: d:") }' },
    { case: 'a syntax error, left for the parser to report', source: '{ a(x: "unterminated }' },
  ])('passes $case', ({ source }) => {
    expect(scanDocument(source, LIMITS)).toBeUndefined();
  });

  it.each([
    { case: 'more tokens than allowed', source: `{ ${'a '.repeat(250)}}`, want: { kind: 'too-many-tokens', limit: 200 } },
    { case: 'a fourth alias', source: '{ a: x b: x c: x d: x }', want: { kind: 'too-many-aliases', limit: 3 } },
    { case: 'aliases inside a fragment', source: 'fragment F on Query { a: x b: x c: x d: x } { ...F }', want: { kind: 'too-many-aliases', limit: 3 } },
    { case: 'selections five deep', source: nest('{ a ', '}', 4, '{ b }'), want: { kind: 'too-deep', limit: 4 } },
    { case: 'an object literal six deep', source: `{ a(x: ${nest('{ k: ', '}', 6, '1')}) }`, want: { kind: 'value-too-deep', limit: 5 } },
    { case: 'a list literal six deep', source: `{ a(x: ${nest('[', ']', 6, '1')}) }`, want: { kind: 'value-too-deep', limit: 5 } },
    { case: 'a list type six deep in a variable definition', source: `query($v: ${nest('[', ']', 6, 'Int')}) { a }`, want: { kind: 'value-too-deep', limit: 5 } },
    { case: 'a JSON syntax tree instead of GraphQL text', source: '{"kind":"Document","definitions":[]}', want: { kind: 'not-graphql-text' } },
    { case: 'a JSON array', source: '[{"query":"{ a }"}]', want: { kind: 'not-graphql-text' } },
  ])('refuses $case', ({ source, want }) => {
    expect(scanDocument(source, LIMITS)).toEqual(want);
  });

  it('refuses a document nested 100 000 levels deep after reading no more than the limit allows', () => {
    const source = `{ a(x: ${nest('{ k: ', '}', 100_000, '1')}) }`;
    expect(scanDocument(source, { ...LIMITS, maxTokens: 1_000_000 })).toEqual({ kind: 'value-too-deep', limit: 5 });
  });
});
