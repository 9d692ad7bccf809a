import { Injectable, Logger } from '@nestjs/common';
import { AgentSessions } from '../agent-link/agent-sessions';
import { Clock } from '../clock';
import { NatsTrust } from '../nats-trust/nats-trust.service';
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
    private readonly natsTrust: NatsTrust,
  ) {}

  async revoke(name: string): Promise<CredentialRevocation> {
    const revocation = await this.clusters.revokeAgentCredentials(name, this.clock.now());
    this.sessions.revoke(revocation.cluster.id, `the agent credentials of cluster ${name} were revoked`);
    // An agent on NATS holds user JWTs instead: they count among the credentials revoked.
    const revokedCredentials = revocation.revokedCredentials + (await this.revokeNatsIdentity(name));
    this.log.log(`agent credentials of cluster ${name} revoked (${revokedCredentials} credential(s), ${revocation.revokedBootstrapTokens} bootstrap token(s))`);
    return { ...revocation, revokedCredentials };
  }

  /**
   * An agent on the NATS transport holds hub-minted user JWTs rather than a gRPC credential: with the
   * hub as NATS operator they go on the account's revocation list, and the server drops the
   * connection. A failed push is retried at the next hub connect (the database change stands).
   * Returns how many user JWTs were revoked.
   */
  private async revokeNatsIdentity(cluster: string): Promise<number> {
    if (!this.natsTrust.operatorAuth) return 0;
    return this.natsTrust.revokeAgentCredentials(cluster).catch((error: unknown) => {
      this.log.warn(`revoking the NATS users of ${cluster} failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    });
  }
}
