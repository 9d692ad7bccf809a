import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraphqlLimitsConfig } from '../../config/graphql-limits-config';
import { limitRules } from './validation-rules';

// graphql as the hub and graphql-query-complexity load it outside the test runner (its CommonJS build):
// a schema of the runner's ES module copy would be "from another realm" to the library.
const { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } = createRequire(__filename)('graphql') as typeof import('graphql');

/** The hub's schema as committed (hub/schema.gql is checked against the code in CI). */
const schema = buildSchema(readFileSync(join(__dirname, '..', '..', '..', 'schema.gql'), 'utf8'));
const STANDARD = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
/** The fragments of the standard query, for documents that spread them more often than it does. */
const FRAGMENTS = STANDARD.slice(STANDARD.indexOf('fragment FullType'));

function codesOf(source: string, introspection: boolean): string[] {
  const problems: string[] = [];
  const limits = loadGraphqlLimitsConfig({ FLOTILLA_GRAPHQL_INTROSPECTION: String(introspection) }, problems, false);
  expect(problems).toEqual([]);
  const errors = validate(schema, parse(source), [...specifiedRules, ...limitRules(limits, {}, undefined)]);
  return errors.map((error) => String(error.extensions['code'] ?? error.message));
}

describe('the request limits on introspection and subscriptions', () => {
  it.each([
    { case: 'the standard introspection query (what GraphiQL and code generators send) is allowed', source: STANDARD, on: [] },
    { case: 'a small introspection query is allowed', source: '{ __schema { queryType { name } } }', on: [] },
    { case: 'one type with its fields and their type chain is allowed', source: '{ __type(name: "Cluster") { fields { name type { kind name ofType { kind name ofType { name } } } } } }', on: [] },
    {
      case: 'four introspection lists nested on one path are refused',
      source: '{ __schema { types { fields { args { type { fields { name } } } } } } }',
      on: ['QUERY_TOO_COMPLEX'],
    },
    {
      case: 'an ofType chain over 20 levels is refused',
      source: `{ __type(name: "Cluster") { ${'ofType { '.repeat(20)}name${' }'.repeat(20)} } }`,
      on: ['QUERY_TOO_DEEP'],
    },
    {
      case: 'the standard query three times over (aliases) is refused for its cost',
      source: `{ a: __schema { types { ...FullType } } b: __schema { types { ...FullType } } c: __schema { types { ...FullType } } }\n${FRAGMENTS}`,
      on: ['QUERY_TOO_COMPLEX'],
    },
    {
      case: 'an API part within its limits is allowed beside introspection',
      source: '{ __schema { queryType { name } } clusters(first: 5) { name labels apps(first: 5) { name resources { kind drift { path } } } } }',
      on: [],
    },
  ])('$case', ({ source, on }) => {
    expect(codesOf(source, true)).toEqual(on);
  });

  it('refuses any introspection while it is off, the standard query included', () => {
    expect(codesOf(STANDARD, false)).toContain('INTROSPECTION_DISABLED');
    expect(codesOf('{ __schema { queryType { name } } }', false)).toEqual(['INTROSPECTION_DISABLED']);
  });

  it('still refuses an API query that is too deep or too costly while introspection is on', () => {
    const deep = `{ ${'clusters { '.repeat(13)}name${' }'.repeat(13)} }`;
    expect(codesOf(deep, true)).toContain('QUERY_TOO_DEEP');
    expect(codesOf('{ clusters(first: 1000) { apps(first: 1000) { name } } }', true)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('refuses a subscription sent as an HTTP request, saying it runs over WebSocket', () => {
    expect(codesOf('subscription { rolloutProgress(id: "00000000-0000-0000-0000-000000000000") { id } }', false)).toEqual(['SUBSCRIPTION_NEEDS_WEBSOCKET']);
  });
});
