import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Clock } from '../clock';
import type { Principal } from '../core/auth/principal';
import { requireAdmin } from './require';
import { ApiTokensService } from './api-tokens.service';
import { ApiTokenModel, CreateApiTokenInput, CreateApiTokenPayload, MeModel } from './auth.model';
import { Audit, Caller, type AuditNote } from './request-context';

@Resolver()
export class AuthResolver {
  constructor(
    private readonly tokens: ApiTokensService,
    private readonly clock: Clock,
  ) {}

  @Query(() => MeModel, { description: 'Who the hub takes the caller for, with its roles.' })
  me(@Caller() caller: Principal): MeModel {
    return MeModel.from(caller);
  }

  @Query(() => [ApiTokenModel], { description: 'Every API token, revoked and expired ones included (ADMIN only). Secrets are never shown.' })
  async apiTokens(@Caller() caller: Principal): Promise<ApiTokenModel[]> {
    requireAdmin(caller, 'list API tokens');
    return (await this.tokens.list()).map(ApiTokenModel.from);
  }

  @Mutation(() => CreateApiTokenPayload, { description: 'Creates an API token and returns its secret once (ADMIN only).' })
  async createApiToken(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('input') input: CreateApiTokenInput): Promise<CreateApiTokenPayload> {
    requireAdmin(caller, 'create API tokens');
    audit.project = input.project ?? null;
    const { token, apiToken } = await this.tokens.create(input, caller.actor, this.clock.now());
    audit.message = `createApiToken name=${JSON.stringify(apiToken.name)} id=${apiToken.id} role=${apiToken.role}${apiToken.project ? ` project=${apiToken.project}` : ''}`;
    return { token, apiToken: ApiTokenModel.from(apiToken) };
  }

  @Mutation(() => ApiTokenModel, { description: 'Revokes an API token on every replica at once (ADMIN only).' })
  async revokeApiToken(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('id', { type: () => ID }) id: string): Promise<ApiTokenModel> {
    requireAdmin(caller, 'revoke API tokens');
    const revoked = await this.tokens.revoke(id, this.clock.now());
    audit.project = revoked.project;
    audit.message = `revokeApiToken name=${JSON.stringify(revoked.name)} id=${revoked.id}`;
    return ApiTokenModel.from(revoked);
  }
}
