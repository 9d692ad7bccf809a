import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Caller } from '../auth/request-context';
import { requireAdmin } from '../auth/require';
import { AgentCredentials } from '../clusters/agent-credentials.service';
import { RevokeAgentCredentialsPayload } from '../clusters/cluster.model';
import type { Principal } from '../core/auth/principal';
import { AgentLinkCa } from './agent-link-ca.service';

@Resolver()
export class TrustResolver {
  constructor(
    private readonly ca: AgentLinkCa,
    private readonly credentials: AgentCredentials,
  ) {}

  @Query(() => String, {
    name: 'agentLinkCA',
    description: "PEM of the CA certificate(s) an agent must trust to reach the hub's gRPC agent link (the agent's FLOTILLA_HUB_CA). Any authenticated principal.",
  })
  agentLinkCA(): Promise<string> {
    return this.ca.bundle();
  }

  @Mutation(() => RevokeAgentCredentialsPayload, {
    description:
      "Revokes a cluster's agent credentials (ADMIN only), e.g. for a lost or compromised agent: its credential and unused bootstrap tokens are refused from now on, and its live agent stream is cut on every hub replica within two seconds. The cluster stays registered with its Apps; issueBootstrapToken gives the token for a re-install. NOT_FOUND for an unknown cluster.",
  })
  async revokeAgentCredentials(@Caller() caller: Principal, @Args('cluster') cluster: string): Promise<RevokeAgentCredentialsPayload> {
    requireAdmin(caller, 'revoke agent credentials');
    return RevokeAgentCredentialsPayload.from(await this.credentials.revoke(cluster));
  }
}
