import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { Principal, Role } from '../core/auth/principal';
import type { ApiTokenEntity } from './api-token.entity';

export enum RoleValue {
  ADMIN = 'ADMIN',
  OPERATOR = 'OPERATOR',
  VIEWER = 'VIEWER',
}
registerEnumType(RoleValue, { name: 'Role', description: 'ADMIN: the whole fleet, projects and tokens. OPERATOR: AppSets, rollouts and cluster labels of a project. VIEWER: reads a project.' });

@ObjectType('ApiToken', { description: 'An API token. Its secret is shown once, when it is created; only a hash is stored.' })
export class ApiTokenModel {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => RoleValue)
  role: Role;

  @Field(() => String, { nullable: true, description: 'The project of an OPERATOR or VIEWER token; null for ADMIN.' })
  project: string | null;

  @Field(() => Date, { nullable: true, description: 'Null: never (only the hub\'s own bootstrap-admin token).' })
  expiresAt: Date | null;

  @Field()
  createdAt: Date;

  @Field({ description: 'Who created it (an actor, or "hub").' })
  createdBy: string;

  @Field(() => Date, { nullable: true, description: 'Last accepted use, to the minute.' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;

  static from(entity: ApiTokenEntity): ApiTokenModel {
    const { id, name, role, project, expiresAt, createdAt, createdBy, lastUsedAt, revokedAt } = entity;
    return Object.assign(new ApiTokenModel(), { id, name, role, project, expiresAt, createdAt, createdBy, lastUsedAt, revokedAt });
  }
}

@InputType()
export class CreateApiTokenInput {
  @Field({ description: 'A label for people, e.g. "ci-deployer": lowercase letters, digits, "-", "_" or ".".' })
  name: string;

  @Field(() => RoleValue)
  role: Role;

  @Field(() => String, { nullable: true, description: 'Required for OPERATOR and VIEWER; must be absent for ADMIN.' })
  project?: string | null;

  @Field(() => String, { nullable: true, description: 'Lifetime such as "30m", "12h" or "90d" (1m to 3650d); default 90d.' })
  expiresIn?: string | null;
}

@ObjectType()
export class CreateApiTokenPayload {
  @Field({ description: 'The secret (prefix flt_api_). Shown this once: store it now.' })
  token: string;

  @Field(() => ApiTokenModel)
  apiToken: ApiTokenModel;
}

@ObjectType('ProjectGrant', { description: 'A role in one project.' })
export class ProjectGrantModel {
  @Field()
  project: string;

  @Field(() => RoleValue)
  role: Role;
}

@ObjectType('Me', { description: 'The caller, as the hub authenticated it.' })
export class MeModel {
  @Field({ description: '"token:<name>" or "oidc:<subject>": how audit events name the caller.' })
  actor: string;

  @Field({ description: '"token" or "oidc".' })
  kind: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  issuer: string | null;

  @Field({ description: 'Fleet-wide admin.' })
  admin: boolean;

  @Field(() => [ProjectGrantModel])
  projects: ProjectGrantModel[];

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  static from(principal: Principal): MeModel {
    return Object.assign(new MeModel(), {
      actor: principal.actor,
      kind: principal.kind,
      name: principal.name,
      issuer: principal.issuer,
      admin: principal.admin,
      projects: Object.entries(principal.projects).map(([project, role]) => ({ project, role })),
      expiresAt: principal.expiresAt,
    });
  }
}
