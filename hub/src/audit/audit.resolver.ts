import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Caller } from '../auth/request-context';
import type { Principal } from '../core/auth/principal';
import { AUDIT_PAGE_DEFAULT, AuditEventConnection, AuditEventFilter, AuditEventModel } from './audit.model';
import { AuditService, encodeCursor } from './audit.service';

@Resolver()
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

  @Query(() => AuditEventConnection, { description: "Audit events the caller may see (an admin: all; others: their projects'), newest first." })
  async auditEvents(
    @Caller() caller: Principal,
    @Args('filter', { type: () => AuditEventFilter, nullable: true }) filter: AuditEventFilter | null,
    @Args('first', { type: () => Int, defaultValue: AUDIT_PAGE_DEFAULT, description: 'At most 500.' }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
  ): Promise<AuditEventConnection> {
    const { rows, hasNextPage } = await this.audit.list(caller, filter ?? {}, first, after);
    const last = rows[rows.length - 1];
    return { nodes: rows.map(AuditEventModel.from), pageInfo: { endCursor: last ? encodeCursor(last.id) : null, hasNextPage } };
  }
}
