import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { AuditEventEntity, AuditOutcome } from './audit-event.entity';

export enum AuditOutcomeValue {
  SUCCESS = 'SUCCESS',
  DENIED = 'DENIED',
  FAILED = 'FAILED',
}
registerEnumType(AuditOutcomeValue, { name: 'AuditOutcome', description: 'SUCCESS; DENIED: the caller lacked the role; FAILED: refused (bad input, not found, issues) or an error.' });

@ObjectType('AuditEvent', { description: 'One audited action: a mutation or a rollout step.' })
export class AuditEventModel {
  @Field(() => ID)
  id: string;

  @Field()
  at: Date;

  @Field({ description: '"token:<name>", "oidc:<subject>", or "hub" for steps the rollout engine took.' })
  actor: string;

  @Field({ description: 'The token id or the OIDC subject; "" for the hub.' })
  actorId: string;

  @Field({ description: 'The OIDC issuer; "" otherwise.' })
  issuer: string;

  @Field({ description: 'The mutation (e.g. applyAppSet) or the rollout step (e.g. rollout.RELEASED).' })
  kind: string;

  @Field(() => String, { nullable: true, description: 'The project concerned; null for fleet-wide actions.' })
  project: string | null;

  @Field()
  message: string;

  @Field(() => AuditOutcomeValue)
  outcome: AuditOutcome;

  @Field({ description: 'Why it was denied or failed; "" on success.' })
  reason: string;

  @Field({ description: 'Where the call came from; "" for the hub.' })
  remoteAddress: string;

  static from(entity: AuditEventEntity): AuditEventModel {
    const { id, at, actor, actorId, issuer, kind, project, message, outcome, reason, remoteAddress } = entity;
    return Object.assign(new AuditEventModel(), { id, at, actor, actorId, issuer, kind, project, message, outcome, reason, remoteAddress });
  }
}

@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor: string | null;

  @Field()
  hasNextPage: boolean;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEventModel], { description: 'Newest first.' })
  nodes: AuditEventModel[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@InputType()
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: 'Exact actor, e.g. "token:ci" or "oidc:alice".' })
  actor?: string | null;

  @Field(() => String, { nullable: true })
  project?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact kind, e.g. startRollout or rollout.RELEASED.' })
  kind?: string | null;

  @Field(() => Date, { nullable: true, description: 'At or after this time.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Before this time.' })
  until?: Date | null;
}

export const AUDIT_PAGE_DEFAULT = 50;
