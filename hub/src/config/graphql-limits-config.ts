import type { BucketRate } from '../core/limits/token-bucket';

/**
 * Limits on what one GraphQL client may ask of the hub (RELIABILITY.md row 13): refused before
 * execution, with a GraphQL error whose `extensions.code` says which limit.
 */
export interface GraphqlLimitsConfig {
  /** FLOTILLA_GRAPHQL_MAX_COST: the most estimated cost of one operation (see hub/src/core/limits/query-cost.ts). */
  readonly maxCost: number;
  /** FLOTILLA_GRAPHQL_DEFAULT_LIST_SIZE: the length assumed for a list field without a `first` argument. */
  readonly defaultListSize: number;
  /** FLOTILLA_GRAPHQL_MAX_ALIASES: the most aliased fields in one document. */
  readonly maxAliases: number;
  /** FLOTILLA_GRAPHQL_MAX_DEPTH: the most fields on one path of an operation (`{ a { b } }` is 2). */
  readonly maxDepth: number;
  /** FLOTILLA_GRAPHQL_MAX_TOKENS: the most lexical tokens in one document. */
  readonly maxTokens: number;
  /** FLOTILLA_GRAPHQL_MAX_DOCUMENT_BYTES: the largest document (query text). */
  readonly maxDocumentBytes: number;
  /** FLOTILLA_GRAPHQL_MAX_VARIABLES_BYTES: the largest variables object (estimated as JSON text). */
  readonly maxVariablesBytes: number;
  /** FLOTILLA_GRAPHQL_MAX_JSON_DEPTH: the deepest nesting of a request body, of variables and of object or list literals. */
  readonly maxJsonDepth: number;
  /** FLOTILLA_GRAPHQL_INTROSPECTION: schema introspection and "did you mean" suggestions (default on only with --demo). */
  readonly introspection: boolean;
  readonly rateLimit: RateLimitConfig;
  readonly database: GraphqlDatabaseShareConfig;
}

/** Token buckets per principal and per source address, for HTTP requests and WebSocket operations. */
export interface RateLimitConfig {
  /** FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_PER_SECOND and FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_BURST. */
  readonly perPrincipal: BucketRate;
  /** FLOTILLA_RATE_LIMIT_PER_ADDRESS_PER_SECOND and FLOTILLA_RATE_LIMIT_PER_ADDRESS_BURST. */
  readonly perAddress: BucketRate;
  /** FLOTILLA_RATE_LIMIT_TRACKED_KEYS: the most principals and addresses remembered (least recently seen forgotten first). */
  readonly trackedKeys: number;
}

/** How much of the database GraphQL requests may use, so that the agent link always gets connections. */
export interface GraphqlDatabaseShareConfig {
  /**
   * FLOTILLA_GRAPHQL_DB_CONNECTIONS: connections all GraphQL requests together may hold or wait for;
   * undefined: the pool size less a reserve of a third (at least 1 for GraphQL).
   */
  readonly connections: number | undefined;
  /** FLOTILLA_GRAPHQL_DB_CONNECTIONS_PER_REQUEST: connections one request may hold or wait for at once. */
  readonly connectionsPerRequest: number;
  /** FLOTILLA_GRAPHQL_REQUEST_TIMEOUT_MS: after this, a request gets no further connection (UNAVAILABLE). */
  readonly requestTimeoutMs: number;
  /** FLOTILLA_GRAPHQL_STATEMENT_TIMEOUT_MS: PostgreSQL statement_timeout of a GraphQL request's statements. */
  readonly statementTimeoutMs: number;
  /** FLOTILLA_GRAPHQL_DB_QUEUE: requests that may wait for a connection; more are refused at once (UNAVAILABLE). */
  readonly queue: number;
}

/** Defaults: far above what the hub's CLI, dashboard, demo and test suites ask, far below the abuse seen. */
export const GRAPHQL_LIMIT_DEFAULTS = {
  maxCost: 50_000,
  defaultListSize: 20,
  maxAliases: 30,
  maxDepth: 12,
  maxTokens: 10_000,
  maxDocumentBytes: 256 * 1024,
  maxVariablesBytes: 1024 * 1024,
  maxJsonDepth: 64,
  principalPerSecond: 100,
  principalBurst: 1_000,
  addressPerSecond: 300,
  addressBurst: 3_000,
  trackedKeys: 10_000,
  connectionsPerRequest: 2,
  requestTimeoutMs: 15_000,
  statementTimeoutMs: 10_000,
  queue: 1_000,
} as const;

/**
 * Reads the FLOTILLA_GRAPHQL_* and FLOTILLA_RATE_LIMIT_* variables, adding a line to `problems` for
 * each bad value (and using the default for it). `demo`: the hub runs the demo fleet (`--demo`),
 * where introspection is on unless FLOTILLA_GRAPHQL_INTROSPECTION says otherwise.
 */
export function loadGraphqlLimitsConfig(env: Record<string, string | undefined>, problems: string[], demo: boolean): GraphqlLimitsConfig {
  const number = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got "${raw.slice(0, 20)}")`);
      return fallback;
    }
    return value;
  };
  const d = GRAPHQL_LIMIT_DEFAULTS;
  const introspectionText = env['FLOTILLA_GRAPHQL_INTROSPECTION']?.trim().toLowerCase();
  let introspection = demo;
  if (introspectionText !== undefined && introspectionText !== '') {
    if (['1', 'true', 'yes', 'on'].includes(introspectionText)) introspection = true;
    else if (['0', 'false', 'no', 'off'].includes(introspectionText)) introspection = false;
    else problems.push(`FLOTILLA_GRAPHQL_INTROSPECTION must be true or false (got "${introspectionText.slice(0, 20)}")`);
  }
  // 0 stands for "unset or refused": the share is then derived from the pool size.
  const connections = number('FLOTILLA_GRAPHQL_DB_CONNECTIONS', 0, 1, 10_000);
  return {
    maxCost: number('FLOTILLA_GRAPHQL_MAX_COST', d.maxCost, 1, 1e12),
    defaultListSize: number('FLOTILLA_GRAPHQL_DEFAULT_LIST_SIZE', d.defaultListSize, 1, 100_000),
    maxAliases: number('FLOTILLA_GRAPHQL_MAX_ALIASES', d.maxAliases, 0, 100_000),
    maxDepth: number('FLOTILLA_GRAPHQL_MAX_DEPTH', d.maxDepth, 2, 1_000),
    maxTokens: number('FLOTILLA_GRAPHQL_MAX_TOKENS', d.maxTokens, 100, 10_000_000),
    maxDocumentBytes: number('FLOTILLA_GRAPHQL_MAX_DOCUMENT_BYTES', d.maxDocumentBytes, 1024, 64 * 1024 * 1024),
    maxVariablesBytes: number('FLOTILLA_GRAPHQL_MAX_VARIABLES_BYTES', d.maxVariablesBytes, 1024, 64 * 1024 * 1024),
    maxJsonDepth: number('FLOTILLA_GRAPHQL_MAX_JSON_DEPTH', d.maxJsonDepth, 4, 1_000),
    introspection,
    rateLimit: {
      perPrincipal: {
        perSecond: number('FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_PER_SECOND', d.principalPerSecond, 0.001, 1e6, false),
        burst: number('FLOTILLA_RATE_LIMIT_PER_PRINCIPAL_BURST', d.principalBurst, 1, 1e7),
      },
      perAddress: {
        perSecond: number('FLOTILLA_RATE_LIMIT_PER_ADDRESS_PER_SECOND', d.addressPerSecond, 0.001, 1e6, false),
        burst: number('FLOTILLA_RATE_LIMIT_PER_ADDRESS_BURST', d.addressBurst, 1, 1e7),
      },
      trackedKeys: number('FLOTILLA_RATE_LIMIT_TRACKED_KEYS', d.trackedKeys, 100, 10_000_000),
    },
    database: {
      connections: connections === 0 ? undefined : connections,
      connectionsPerRequest: number('FLOTILLA_GRAPHQL_DB_CONNECTIONS_PER_REQUEST', d.connectionsPerRequest, 1, 1_000),
      requestTimeoutMs: number('FLOTILLA_GRAPHQL_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 100, 3_600_000),
      statementTimeoutMs: number('FLOTILLA_GRAPHQL_STATEMENT_TIMEOUT_MS', d.statementTimeoutMs, 100, 3_600_000),
      queue: number('FLOTILLA_GRAPHQL_DB_QUEUE', d.queue, 1, 1_000_000),
    },
  };
}
