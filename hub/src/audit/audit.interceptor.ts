import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { type Observable, from, mergeMap, catchError, throwError } from 'rxjs';
import { requestContext } from '../auth/request-context';
import { FlotillaError } from '../errors';
import { canRead } from '../core/auth/principal';
import type { AuditOutcome } from './audit-event.entity';
import { AuditService } from './audit.service';

/** Arguments that name what a mutation acts on; they go into the audit message. Documents and secrets never do. */
const NAMED_ARGS = ['name', 'id', 'appSet', 'cluster', 'wave', 'reason', 'force', 'supersede'];

/**
 * Audits every GraphQL mutation after it ran: who, what, where from, the outcome and the reason. The
 * resolver names the project (and may refine the message) through its {@link AuditNote}.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    if (info.parentType.name !== 'Mutation') return next.handle();
    const ctx = requestContext(context);
    const principal = ctx.principal;
    if (!principal) return next.handle();
    // Mutations run one after another, so one note per context is enough.
    ctx.audit = {};
    const kind = info.fieldName;
    const write = (outcome: AuditOutcome, reason: string) =>
      this.audit.record({
        principal,
        kind,
        // An attempt on a project the caller cannot see is filed fleet-wide (admins only), so that no
        // one can write into, or show their name in, another project's trail.
        project: ctx.audit?.project && canRead(principal, ctx.audit.project) ? ctx.audit.project : null,
        message: ctx.audit?.message ?? describeArgs(kind, gql.getArgs<Record<string, unknown>>()),
        outcome,
        reason,
        remoteAddress: ctx.remoteAddress,
      });
    return next.handle().pipe(
      mergeMap((result: unknown) => {
        const issues = issuesOf(result);
        return from(write(issues ? 'FAILED' : 'SUCCESS', issues ?? '').then(() => result));
      }),
      catchError((error: unknown) => {
        const denied = error instanceof FlotillaError && (error.code === 'PERMISSION_DENIED' || error.code === 'UNAUTHENTICATED');
        const reason = error instanceof FlotillaError ? `${error.code}: ${error.message}` : 'internal error';
        return from(write(denied ? 'DENIED' : 'FAILED', reason)).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }
}

function describeArgs(kind: string, args: Record<string, unknown>): string {
  const input = (args['input'] && typeof args['input'] === 'object' ? args['input'] : {}) as Record<string, unknown>;
  const parts = [...NAMED_ARGS.map((key) => [key, args[key]] as const), ...['name', 'role', 'project'].map((key) => [key, input[key]] as const)]
    .filter(([, value]) => typeof value === 'string' || typeof value === 'boolean')
    .filter(([, value]) => value !== '' && value !== false)
    .map(([key, value]) => `${key}=${JSON.stringify(value).slice(0, 200)}`);
  return parts.length > 0 ? `${kind} ${parts.join(' ')}` : kind;
}

/** The codes of the issues a payload reports (applyAppSet and friends refuse with issues rather than errors). */
function issuesOf(result: unknown): string | undefined {
  const issues = (result as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return undefined;
  const codes = [...new Set(issues.map((i: { code?: unknown }) => String(i.code)))];
  return `${issues.length} issue(s): ${codes.join(', ')}`;
}
