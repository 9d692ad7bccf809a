import { createHash } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defaultErrorFormatter, type MercuriusContext } from 'mercurius';
import { DataSource } from 'typeorm';
import { GraphQLError, parse, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { GraphqlLimitsConfig } from '../../config/graphql-limits-config';
import { checkJson } from '../../core/limits/json-shape';
import type { Principal } from '../../core/auth/principal';
import { checkOperation, checkVariablesText } from './operation-checks';
import { jsonRefusal, limitError, rateRefusal, refusalBody, type LimitRefusal } from './limit-errors';
import { DatabaseShare, type ConnectablePool } from './database-share';
import { RateLimiter, principalKey } from './rate-limiter';
import { checkDocument, limitRules, withoutSuggestion } from './validation-rules';

const GRAPHQL_PATH = '/graphql';
/** The largest member of a request body other than the query and the variables (e.g. `extensions`). */
const OTHER_MEMBER_BYTES = 64 * 1024;

/**
 * The GraphQL limits of one hub process (RELIABILITY.md row 13): what the GraphQL module is configured
 * with ({@link mercuriusOptions}), the HTTP hooks ({@link install}) and the WebSocket screen
 * ({@link websocketContext}), sharing one set of rate-limit buckets.
 */
export class GraphqlLimits {
  readonly byPrincipal: RateLimiter;
  readonly byAddress: RateLimiter;

  constructor(readonly config: GraphqlLimitsConfig) {
    this.byPrincipal = new RateLimiter(config.rateLimit.perPrincipal, config.rateLimit.trackedKeys);
    this.byAddress = new RateLimiter(config.rateLimit.perAddress, config.rateLimit.trackedKeys);
  }

  /**
   * Options of the GraphQL module: the validation rules in mercurius' function form, so that each
   * request's variables count (which needs the parsed-document cache off), a token limit on the
   * parser, no batched queries, no suggestions unless introspection is on, and a per-principal rate
   * limit for WebSocket operations (their principal is known only once graphql-ws authenticated).
   */
  mercuriusOptions() {
    const limits = this.config;
    return {
      cache: false as const,
      allowBatchedQueries: false,
      graphql: { parseOptions: { maxTokens: limits.maxTokens } },
      validationRules: ({ variables, operationName }: { source: string; variables?: Record<string, unknown>; operationName?: string }) => limitRules(limits, variables, operationName),
      errorFormatter: (execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context: unknown) => this.formatErrors(execution, context),
      hooks: {
        preSubscriptionExecution: [
          async (_schema: GraphQLSchema, _document: DocumentNode, context: MercuriusContext) => {
            const principal = (context as { principal?: Principal }).principal;
            if (!principal) return;
            const wait = this.byPrincipal.take(principalKey(principal), Date.now());
            if (wait !== undefined) throw limitError(rateRefusal(wait, 'principal'));
          },
        ],
      },
    };
  }

  /** Mercurius' default formatting, less GraphQL's "Did you mean …?" hints when introspection is off. */
  private formatErrors(execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context: unknown) {
    const formatted = defaultErrorFormatter(execution, context as MercuriusContext);
    if (this.config.introspection || !formatted.response.errors) return formatted;
    const errors = formatted.response.errors.map((error) => ({ ...(error as unknown as Record<string, unknown>), message: withoutSuggestion(error.message) }));
    return { statusCode: formatted.statusCode, response: { ...formatted.response, errors: errors as unknown as readonly GraphQLError[] } };
  }

  /**
   * Installs the HTTP side on the hub's Fastify instance: the per-address bucket when a request to
   * /graphql arrives (before authentication), the per-principal bucket and the body checks once it is
   * authenticated and parsed (before GraphQL sees it), and the database share of the request around
   * its execution. /healthz, /metrics and everything but /graphql are left alone.
   */
  install(app: NestFastifyApplication, pool: ConnectablePool): DatabaseShare {
    const share = new DatabaseShare(this.config.database, pool.options?.max ?? 10);
    share.wrap(pool);
    // The adapter's own fastify typings differ from the root package's; only the hook API is used.
    const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyHooks;
    fastify.addHook('onRequest', async (request, reply) => {
      if (pathOf(request.url) !== GRAPHQL_PATH || request.headers.upgrade?.toLowerCase() === 'websocket') return;
      const now = Date.now();
      const wait = this.byAddress.take(request.ip, now);
      if (wait !== undefined) return refuse(reply, rateRefusal(wait, 'address'));
      // The caller's own bucket, keyed by its credential before authentication looks it up in the
      // database: a flood with one token is refused without a query per request. (For an API token
      // this is the principal's bucket in effect; after authentication the principal's own bucket
      // also counts, which catches one principal with many credentials, e.g. fresh OIDC tokens.)
      const authorization = request.headers.authorization;
      if (typeof authorization === 'string' && authorization !== '') {
        const credentialWait = this.byPrincipal.take(`credential:${createHash('sha256').update(authorization).digest('base64url')}`, now);
        if (credentialWait !== undefined) return refuse(reply, rateRefusal(credentialWait, 'principal'));
      }
    });
    fastify.addHook('preValidation', async (request, reply) => {
      if (pathOf(request.url) !== GRAPHQL_PATH || isWebSocket(request)) return;
      if (request.principal) {
        const wait = this.byPrincipal.take(principalKey(request.principal), Date.now());
        if (wait !== undefined) return refuse(reply, rateRefusal(wait, 'principal'));
      }
      const refusal = this.checkRequest(request);
      if (refusal) return refuse(reply, refusal);
    });
    fastify.addHook('preHandler', (request, _reply, done) => {
      if (pathOf(request.url) !== GRAPHQL_PATH || isWebSocket(request)) return done();
      share.run(done);
    });
    return share;
  }

  private checkRequest(request: FastifyRequest): LimitRefusal | undefined {
    const limits = this.config;
    if (request.method === 'GET') {
      const query = (request.query ?? {}) as Record<string, unknown>;
      if (typeof query['variables'] === 'string') {
        const refused = checkVariablesText(query['variables'], limits);
        if (refused) return refused;
      }
      return checkOperation({ query: query['query'], variables: undefined }, limits);
    }
    const body: unknown = request.body;
    if (Array.isArray(body)) {
      return { code: 'BATCHED_QUERIES_REFUSED', status: 400, message: 'Batched queries are not accepted: send one operation per request.', details: { operations: body.length } };
    }
    if (body === null || typeof body !== 'object') return undefined;
    const operation = body as Record<string, unknown>;
    // Every member but the query is JSON a client made up (variables, extensions, unknown keys): none
    // may nest deeper than variables may, and those beyond the variables stay small.
    for (const [key, value] of Object.entries(operation)) {
      if (key === 'query' || key === 'variables') continue;
      const refused = checkJson(value, { maxDepth: limits.maxJsonDepth, maxBytes: OTHER_MEMBER_BYTES });
      if (refused) return jsonRefusal(refused, `"${key.slice(0, 40)}" in the request body`);
    }
    return checkOperation({ query: operation['query'], variables: operation['variables'] }, limits);
  }

  /**
   * The `subscription.context` of the GraphQL module: called by mercurius with each graphql-ws
   * socket when it is initialised, it screens every later `subscribe` message before mercurius
   * sees it. Mercurius parses a subscription without a token limit and executes it without
   * validating it (neither GraphQL's rules nor ours), and offers no hook before its parse, so the
   * only place to apply the limits is the socket: its `emit` of `message` events is wrapped so that a
   * refused operation is answered with a graphql-ws `error` and never reaches mercurius.
   */
  websocketContext() {
    return (socket: ScreenedSocket, request: FastifyRequest): Record<string, never> => {
      if (screened.has(socket)) return {};
      screened.add(socket);
      const schema = (request.server as unknown as { graphql?: { schema?: GraphQLSchema } }).graphql?.schema;
      const emit = socket.emit.bind(socket);
      socket.emit = (event: string | symbol, ...args: unknown[]): boolean => {
        if (event !== 'message') return emit(event, ...args);
        const answer = this.screenMessage(args[0], request.ip, schema);
        if (answer === undefined) return emit(event, ...args);
        socket.send(JSON.stringify(answer));
        return true;
      };
      return {};
    };
  }

  /** The graphql-ws `error` message that refuses `raw`, or undefined to let it through. */
  private screenMessage(raw: unknown, address: string, schema: GraphQLSchema | undefined): { type: 'error'; id: unknown; payload: unknown[] } | undefined {
    let message: { type?: unknown; id?: unknown; payload?: { query?: unknown; variables?: unknown; operationName?: unknown } };
    try {
      message = JSON.parse(String(raw)) as typeof message;
    } catch {
      return undefined;
    }
    if (message === null || typeof message !== 'object' || (message.type !== 'subscribe' && message.type !== 'start')) return undefined;
    const refuse = (errors: unknown[]) => ({ type: 'error' as const, id: message.id, payload: errors });
    const wait = this.byAddress.take(address, Date.now());
    if (wait !== undefined) return refuse([refusalBody(rateRefusal(wait, 'address')).errors[0]]);
    const payload = message.payload ?? {};
    const refusal = checkOperation({ query: payload.query, variables: payload.variables }, this.config);
    if (refusal) return refuse([refusalBody(refusal).errors[0]]);
    if (typeof payload.query !== 'string' || !schema) return undefined;
    let document;
    try {
      document = parse(payload.query, { maxTokens: this.config.maxTokens });
    } catch {
      return undefined; // mercurius parses it again and answers the syntax error
    }
    const variables = payload.variables !== null && typeof payload.variables === 'object' ? (payload.variables as Record<string, unknown>) : undefined;
    const operationName = typeof payload.operationName === 'string' ? payload.operationName : undefined;
    const limited = checkDocument(document, schema, this.config, variables, operationName);
    return limited ? refuse([refusalBody(limited).errors[0]]) : undefined;
  }
}

const screened = new WeakSet<object>();

/** The part of a `ws` socket the screen uses. */
interface ScreenedSocket {
  emit(event: string | symbol, ...args: unknown[]): boolean;
  send(data: string): void;
}

interface FastifyHooks {
  addHook(name: 'onRequest' | 'preValidation', hook: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void;
  addHook(name: 'preHandler', hook: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void): void;
}

function refuse(reply: FastifyReply, refusal: LimitRefusal): FastifyReply {
  if (refusal.status === 429) void reply.header('retry-after', String(Math.max(1, Math.ceil((refusal.details?.['retryAfterMs'] ?? 1000) / 1000))));
  return reply.code(refusal.status).type('application/json').send(refusalBody(refusal));
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A connection that Node really upgraded (a forged `Upgrade` header on a plain request is not one). */
function isWebSocket(request: FastifyRequest): boolean {
  return (request as { ws?: unknown }).ws === true;
}

/**
 * Installs the limits' HTTP hooks and the database share on a created (not yet listening) hub: call
 * once, after the application exists and before it listens.
 */
export function installGraphqlLimits(app: NestFastifyApplication): void {
  const pool = (app.get(DataSource).driver as unknown as { master: ConnectablePool }).master;
  app.get(GraphqlLimits).install(app, pool);
}
