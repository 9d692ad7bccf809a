import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { NatsTrust } from '../nats-trust/nats-trust.service';
import { AgentLinkCa } from '../trust/agent-link-ca.service';
import { agentInstallCommand, type AgentLink } from './install-command';

/** What registerCluster and issueBootstrapToken hand out with a bootstrap token to install the agent. */
export interface AgentInstall {
  readonly agentInstallCommand: string;
  readonly caBundle: string;
  readonly natsEnrollmentJwt: string | null;
}

/**
 * Assembles the agent's install material for a fresh bootstrap token: the hub's CA bundle, the NATS
 * enrollment JWT when the hub is the NATS operator (then the install command puts the agent on
 * NATS), and the helm command with both.
 */
@Injectable()
export class AgentInstaller {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly ca: AgentLinkCa,
    private readonly natsTrust: NatsTrust,
  ) {}

  async forToken(cluster: { name: string }, bootstrapToken: string): Promise<AgentInstall> {
    const caBundle = await this.ca.bundle();
    // Signed after the token was issued, so that it expires no earlier than the token.
    const natsEnrollmentJwt = this.natsTrust.operatorAuth ? await this.natsTrust.enrollmentJwt() : null;
    return { agentInstallCommand: agentInstallCommand(cluster, this.link(caBundle, natsEnrollmentJwt), bootstrapToken), caBundle, natsEnrollmentJwt };
  }

  private link(caBundle: string, natsEnrollmentJwt: string | null): AgentLink {
    if (natsEnrollmentJwt !== null && this.config.nats) return { kind: 'nats', servers: this.config.nats.servers, enrollmentJwt: natsEnrollmentJwt };
    const hubAddress = this.config.agentAddress ?? `${this.config.grpcHost}:${this.config.grpcPort}`;
    return { kind: 'grpc', hubAddress, trust: this.config.agentLinkTls.insecure ? { kind: 'insecure' } : { kind: 'tls', caBundle } };
  }
}
