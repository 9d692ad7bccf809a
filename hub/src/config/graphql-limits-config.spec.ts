import { describe, expect, it } from 'vitest';
import { GRAPHQL_LIMIT_DEFAULTS, loadGraphqlLimitsConfig } from './graphql-limits-config';
import { loadHubConfig } from './hub-config';

const load = (env: Record<string, string | undefined>, demo = false) => {
  const problems: string[] = [];
  const config = loadGraphqlLimitsConfig(env, problems, demo);
  return { config, problems };
};

describe('loadGraphqlLimitsConfig', () => {
  it('uses the documented defaults when nothing is set, with introspection off', () => {
    const { config, problems } = load({});
    expect(problems).toEqual([]);
    expect(config).toEqual({
      maxCost: GRAPHQL_LIMIT_DEFAULTS.maxCost,
      defaultListSize: 20,
      maxAliases: 30,
      maxDepth: 12,
      maxTokens: 10_000,
      maxDocumentBytes: 262_144,
      maxVariablesBytes: 1_048_576,
      maxJsonDepth: 64,
      introspection: false,
      rateLimit: { perPrincipal: { perSecond: 100, burst: 1000 }, perAddress: { perSecond: 300, burst: 3000 }, trackedKeys: 10_000 },
      database: { connections: undefined, connectionsPerRequest: 2, requestTimeoutMs: 15_000, statementTimeoutMs: 10_000, queue: 1000 },
    });
  });

  it.each([
    { case: 'the demo turns introspection on', env: {}, demo: true, introspection: true },
    { case: 'the variable turns it on without the demo', env: { FLOTILLA_GRAPHQL_INTROSPECTION: 'true' }, demo: false, introspection: true },
    { case: 'the variable turns it off in the demo', env: { FLOTILLA_GRAPHQL_INTROSPECTION: 'off' }, demo: true, introspection: false },
  ])('$case', ({ env, demo, introspection }) => {
    expect(load(env, demo).config.introspection).toBe(introspection);
  });

  it('reads every setting', () => {
    const { config, problems } = load({
      FLOTILLA_GRAPHQL_MAX_COST: '1000',
      FLOTILLA_GRAPHQL_DEFAULT_LIST_SIZE: '5',
      FLOTILLA_GRAPHQL_MAX_ALIASES: '3',
      FLOTILLA_GRAPHQL_MAX_DEPTH: '6',
      FLOTILLA_GRAPHQL_MAX_TOKENS: '500',
      FLOTILLA_GRAPHQL_MAX_DOCUMENT_BYTES: '2048',
      FLOTILLA_GRAPHQL_MAX_VARIABLES_BYTES: '4096',
      FLOTILLA_GRAPHQL_MAX_JSON_DEPTH: '8',
      FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_PER_SECOND: '0.5',
      FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_BURST: '2',
      FLOTILLA_RATE_LIMIT_PER_ADDRESS_PER_SECOND: '10',
      FLOTILLA_RATE_LIMIT_PER_ADDRESS_BURST: '20',
      FLOTILLA_RATE_LIMIT_TRACKED_KEYS: '100',
      FLOTILLA_GRAPHQL_DB_CONNECTIONS: '3',
      FLOTILLA_GRAPHQL_DB_CONNECTIONS_PER_REQUEST: '1',
      FLOTILLA_GRAPHQL_REQUEST_TIMEOUT_MS: '5000',
      FLOTILLA_GRAPHQL_STATEMENT_TIMEOUT_MS: '2000',
      FLOTILLA_GRAPHQL_DB_QUEUE: '10',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      maxCost: 1000,
      defaultListSize: 5,
      maxAliases: 3,
      maxDepth: 6,
      maxTokens: 500,
      maxDocumentBytes: 2048,
      maxVariablesBytes: 4096,
      maxJsonDepth: 8,
      rateLimit: { perPrincipal: { perSecond: 0.5, burst: 2 }, perAddress: { perSecond: 10, burst: 20 }, trackedKeys: 100 },
      database: { connections: 3, connectionsPerRequest: 1, requestTimeoutMs: 5000, statementTimeoutMs: 2000, queue: 10 },
    });
  });

  it.each([
    { name: 'FLOTILLA_GRAPHQL_MAX_COST', value: '0', problem: 'FLOTILLA_GRAPHQL_MAX_COST must be an integer from 1' },
    { name: 'FLOTILLA_GRAPHQL_MAX_ALIASES', value: 'many', problem: 'FLOTILLA_GRAPHQL_MAX_ALIASES must be an integer from 0' },
    { name: 'FLOTILLA_GRAPHQL_MAX_DEPTH', value: '1.5', problem: 'FLOTILLA_GRAPHQL_MAX_DEPTH must be an integer from 2' },
    { name: 'FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_PER_SECOND', value: '-1', problem: 'FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_PER_SECOND must be a number from 0.001' },
    { name: 'FLOTILLA_RATE_LIMIT_PER_ADDRESS_BURST', value: '0', problem: 'FLOTILLA_RATE_LIMIT_PER_ADDRESS_BURST must be an integer from 1' },
    { name: 'FLOTILLA_GRAPHQL_DB_CONNECTIONS', value: '0', problem: 'FLOTILLA_GRAPHQL_DB_CONNECTIONS must be an integer from 1' },
    { name: 'FLOTILLA_GRAPHQL_INTROSPECTION', value: 'maybe', problem: 'FLOTILLA_GRAPHQL_INTROSPECTION must be true or false' },
  ])('refuses $name=$value and keeps the default', ({ name, value, problem }) => {
    const { config, problems } = load({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
    expect(config).toEqual(load({}).config);
  });

  it('is part of the hub configuration, and a bad value fails the hub configuration', () => {
    expect(loadHubConfig({ FLOTILLA_GRAPHQL_MAX_ALIASES: '7' }).graphqlLimits.maxAliases).toBe(7);
    expect(loadHubConfig({}, ['--demo']).graphqlLimits.introspection).toBe(true);
    expect(() => loadHubConfig({ FLOTILLA_GRAPHQL_MAX_COST: 'lots' })).toThrow(/FLOTILLA_GRAPHQL_MAX_COST/);
  });
});
