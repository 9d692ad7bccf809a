import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';

/** What an audited mutation tells the audit trail beyond its name and outcome. */
export interface AuditNote {
  /** The project the mutation concerned, once known. */
  project?: string | null;
  /** What it did, in one line (never a secret or a whole document). */
  message?: string;
}

/** The GraphQL context of one request (HTTP) or one connection (WebSocket). */
export interface RequestContext {
  /** Set by the edge before any resolver runs; absent only if the edge was bypassed (refused by the guard). */
  readonly principal?: Principal;
  readonly remoteAddress: string;
  /** HTTP requests are authenticated one by one; a WebSocket at connect, and re-checked per operation. */
  readonly transport: 'http' | 'websocket';
  /** The note of the mutation being executed (mutations run one at a time). */
  audit?: AuditNote;
}

/** The context of a GraphQL resolver call. */
export function requestContext(context: ExecutionContext): RequestContext {
  return GqlExecutionContext.create(context).getContext<RequestContext>();
}

/** Injects the caller's principal into a resolver method. Throws UNAUTHENTICATED without one. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = requestContext(context).principal;
  if (!principal) throw new FlotillaError('UNAUTHENTICATED', 'Authentication required.');
  return principal;
});

/** Injects the audit note of the mutation being executed; resolvers fill in the project and a message. */
export const Audit = createParamDecorator((_data: unknown, context: ExecutionContext): AuditNote => {
  const ctx = requestContext(context);
  ctx.audit ??= {};
  return ctx.audit;
});
