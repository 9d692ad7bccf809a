import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { HubEndpoints } from '../core/server-url.js';
import { ExitCode } from '../core/exit-codes.js';
import { CliError } from '../errors.js';

/** How long one HTTP request may take (a preview renders every App of an AppSet). */
const REQUEST_TIMEOUT_MS = 120_000;

/** WebSocket close codes of a connection lost rather than refused: going away, abnormal, server error, restart, try later. */
const RETRIED_CLOSE_CODES = new Set([1001, 1006, 1011, 1012, 1013]);

interface GraphqlError {
  message: string;
  extensions?: { code?: string; retryAfterMs?: number };
}

/** Supplies the bearer token for each request; `refresh` is asked once after the hub refused one. */
export interface TokenSource {
  token(): Promise<string | undefined>;
  /** Gets a fresh token (an OIDC refresh); false when there is no way to. */
  refresh(): Promise<boolean>;
  /** What to tell a user whose token was refused (e.g. `flotilla login --server URL`). */
  readonly loginHint: string;
}

/**
 * The hub's GraphQL API over fetch (queries, mutations) and graphql-ws (subscriptions), with typed
 * documents. Every failure is a {@link CliError} that says what to do; none repeats the token.
 */
export class HubClient {
  private readonly printed = new WeakMap<object, string>();

  constructor(
    readonly endpoints: HubEndpoints,
    private readonly tokens: TokenSource,
  ) {}

  async request<TData, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): Promise<TData> {
    const first = await this.send(document, variables);
    if (first.kind === 'unauthenticated' && (await this.tokens.refresh())) {
      const second = await this.send(document, variables);
      return this.unwrap(second);
    }
    return this.unwrap(first);
  }

  /**
   * Follows a subscription: calls `next` for every message until the hub completes it (resolves) or
   * it fails (rejects with a CliError). `stop` ends it early. The token goes in graphql-ws
   * `connection_init`, as the hub expects.
   */
  subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
    next: (data: TData) => void,
  ): { done: Promise<void>; stop: () => void } {
    const client: Client = createClient({
      url: this.endpoints.websocketUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      // A dropped connection (a hub replica going away or restarting) is retried with graphql-ws'
      // backoff, a few times; refusals (4401, 4403...) and connection errors fail at once.
      retryAttempts: 5,
      shouldRetry: (event) => RETRIED_CLOSE_CODES.has((event as { code?: number }).code ?? 0),
      connectionParams: async () => {
        const token = await this.tokens.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    });
    let unsubscribe: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      unsubscribe = client.subscribe<TData>(
        { query: this.text(document), variables },
        {
          next: (message) => {
            if (message.errors?.length) reject(this.toError(message.errors as GraphqlError[]));
            else if (message.data) next(message.data);
          },
          error: (error: unknown) => reject(this.subscriptionError(error)),
          complete: () => resolve(),
        },
      );
    }).finally(() => void client.dispose());
    return {
      done,
      stop: () => {
        unsubscribe();
        void client.dispose();
      },
    };
  }

  private async send(document: object, variables: Record<string, unknown>) {
    const token = await this.tokens.token();
    let response: Response;
    try {
      response = await fetch(this.endpoints.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: this.text(document), variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    let body: { data?: unknown; errors?: GraphqlError[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new CliError(`the hub at ${this.endpoints.graphqlUrl} answered HTTP ${response.status} without a GraphQL answer: is --server the address of a Flotilla hub?`);
    }
    const errors = body.errors ?? [];
    if (response.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) return { kind: 'unauthenticated' as const, errors, hasToken: token !== undefined };
    return { kind: 'answer' as const, body, errors };
  }

  private unwrap<TData>(result: Awaited<ReturnType<HubClient['send']>>): TData {
    if (result.kind === 'unauthenticated') {
      const why = result.hasToken ? 'the hub did not accept the token (expired, revoked or mistyped)' : 'no token to present to the hub';
      throw new CliError(`${why}: log in again with \`${this.tokens.loginHint}\`, or pass --token or FLOTILLA_TOKEN`);
    }
    if (result.errors.length > 0) throw this.toError(result.errors);
    if (result.body.data === undefined || result.body.data === null) throw new CliError('the hub answered without data');
    return result.body.data as TData;
  }

  private toError(errors: GraphqlError[]): CliError {
    const first = errors[0]!;
    const code = first.extensions?.code ?? 'ERROR';
    switch (code) {
      case 'UNAUTHENTICATED':
        return new CliError(`the hub did not accept the token: log in again with \`${this.tokens.loginHint}\``);
      case 'PERMISSION_DENIED':
        return new CliError(`permission denied: ${first.message} (your token's role does not allow this; see \`flotilla whoami\`)`);
      case 'RATE_LIMITED':
        return new CliError(`the hub is rate limiting this caller: ${first.message} (retry in ${Math.ceil((first.extensions?.retryAfterMs ?? 1000) / 1000)}s)`);
      default: {
        const more = errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : '';
        return new CliError(`${code}: ${first.message}${more}`, ExitCode.error, code);
      }
    }
  }

  private unreachable(error: unknown): CliError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if ((error as Error).name === 'TimeoutError') return new CliError(`the hub at ${this.endpoints.graphqlUrl} did not answer within ${REQUEST_TIMEOUT_MS / 1000}s`);
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return new CliError(`cannot reach the hub at ${this.endpoints.graphqlUrl} (${why}): is it running, and is --server (or the context's server) right?`);
  }

  private subscriptionError(error: unknown): CliError {
    if (Array.isArray(error)) return this.toError(error as GraphqlError[]);
    if (error instanceof Error) return this.unreachable(error);
    const close = error as { code?: number; reason?: string };
    if (close.code === 4401 || close.code === 4403) return new CliError(`the hub refused the subscription (${close.reason || close.code}): log in again with \`${this.tokens.loginHint}\``);
    return new CliError(`the hub closed the subscription at ${this.endpoints.websocketUrl} (${close.code ?? '?'} ${close.reason ?? ''})`.trim());
  }

  private text(document: object): string {
    let text = this.printed.get(document);
    if (text === undefined) {
      text = print(document as Parameters<typeof print>[0]);
      this.printed.set(document, text);
    }
    return text;
  }
}
