import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { Caller } from '../auth/request-context';
import { Clock } from '../clock';
import { requireAdmin } from '../auth/require';
import { AgentCredentials } from '../clusters/agent-credentials.service';
import { RevokeAgentCredentialsPayload } from '../clusters/cluster.model';
import type { Principal } from '../core/auth/principal';
import { AgentCertificates } from './agent-certificates.service';
import { AgentLinkCa, type AgentLinkTrust } from './agent-link-ca.service';
import { AgentLinkTrustModel } from './trust.model';

@Resolver()
export class TrustResolver {
  constructor(
    private readonly ca: AgentLinkCa,
    private readonly credentials: AgentCredentials,
    private readonly certificates: AgentCertificates,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly clock: Clock,
  ) {}

  @Query(() => AgentLinkTrustModel, { description: 'The CAs of the gRPC agent link and where a CA rotation stands. ADMIN only.' })
  async agentLinkTrust(@Caller() caller: Principal): Promise<AgentLinkTrustModel> {
    requireAdmin(caller, 'read the agent-link trust');
    return this.model(await this.ca.trust());
  }

  @Mutation(() => AgentLinkTrustModel, {
    description:
      "Rotates the hub's own agent-link CA (ADMIN only). A new CA signs every client certificate from now on; connected agents are sent the new CA bundle and renew their certificates at once, agents that connect later do so at their first connection. The previous CA keeps signing the hub's server certificates and stays trusted for overlapSeconds (default: the agent certificate lifetime, so that every certificate it signed has expired when it goes); then every replica serves a server certificate from the new CA, without a restart. FAILED_PRECONDITION while a rotation is in progress or when the CA is operator-supplied (rotate it through FLOTILLA_CA_TRUST_FILE).",
  })
  async rotateAgentLinkCA(@Caller() caller: Principal, @Args('overlapSeconds', { type: () => Int, nullable: true }) overlapSeconds?: number | null): Promise<AgentLinkTrustModel> {
    requireAdmin(caller, 'rotate the agent-link CA');
    return this.model(await this.ca.rotate(overlapSeconds ?? this.config.agentCertTtlSeconds));
  }

  @Mutation(() => AgentLinkTrustModel, {
    description:
      'Ends the overlap of a CA rotation now (ADMIN only): the previous CA is no longer trusted, streams still on certificates it signed are cut, and every replica moves its server certificate to the new CA within seconds. Use it once agentLinkTrust.clustersOnRetiringCA is 0. FAILED_PRECONDITION without a rotation in progress.',
  })
  async completeAgentLinkCARotation(@Caller() caller: Principal): Promise<AgentLinkTrustModel> {
    requireAdmin(caller, 'complete the agent-link CA rotation');
    return this.model(await this.ca.completeRotation());
  }

  private async model(trust: AgentLinkTrust): Promise<AgentLinkTrustModel> {
    const since = trust.retiresAt ? await this.ca.signingSince() : undefined;
    return AgentLinkTrustModel.from(trust, since ? await this.certificates.countIssuedBefore(since, this.clock.now()) : 0);
  }

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
