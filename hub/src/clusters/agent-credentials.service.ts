import { Injectable, Logger } from '@nestjs/common';
import { AgentSessions } from '../agent-link/agent-sessions';
import { Clock } from '../clock';
import { ClustersService, type CredentialRevocation } from './clusters.service';

/**
 * Revokes a cluster's agent credentials (a lost or compromised agent): every credential and unused
 * bootstrap token of the cluster is refused from the commit on, and its live stream is cut on every
 * replica within seconds: here at once, elsewhere by the notification that the commit sends or, if
 * that is lost, by the once-a-second credential check (AgentCredentialCheck). The cluster stays
 * registered with its Apps; issueBootstrapToken starts a re-install.
 */
@Injectable()
export class AgentCredentials {
  private readonly log = new Logger('Clusters');

  constructor(
    private readonly clusters: ClustersService,
    private readonly sessions: AgentSessions,
    private readonly clock: Clock,
  ) {}

  async revoke(name: string): Promise<CredentialRevocation> {
    const revocation = await this.clusters.revokeAgentCredentials(name, this.clock.now());
    this.log.log(`agent credentials of cluster ${name} revoked (${revocation.revokedCredentials} credential(s), ${revocation.revokedBootstrapTokens} bootstrap token(s))`);
    this.sessions.revoke(revocation.cluster.id, `the agent credentials of cluster ${name} were revoked`);
    await this.revokeNatsIdentity(name);
    return revocation;
  }

  /**
   * HOOK (NATS identities, in progress elsewhere): an agent on the NATS transport holds a hub-minted
   * user JWT rather than a gRPC credential. Revoking it (adding it to the account's revocation list
   * and pushing the account) belongs to the NATS trust service; wire that call here. Until then
   * revokeAgentCredentials cuts gRPC agents only.
   */
  private async revokeNatsIdentity(_cluster: string): Promise<void> {}
}
