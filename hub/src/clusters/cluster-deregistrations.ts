import { Injectable, Logger } from '@nestjs/common';
import { AgentSessions } from '../agent-link/agent-sessions';
import { NatsLink } from '../agent-link/nats-link.service';
import { ClusterChangePreviews } from '../app-sets/cluster-change-preview';
import { AppSetsService } from '../app-sets/app-sets.service';
import type { Issue } from '../core/issues';
import { FlotillaError } from '../errors';
import { hubPrincipal } from '../core/auth/principal';

const HUB = hubPrincipal('hub');
import { ClustersService } from './clusters.service';

/** What deregisterCluster did. */
export interface DeregistrationOutcome {
  readonly cluster: string;
  /** False when the deletion breaker refused it (nothing changed). */
  readonly deregistered: boolean;
  readonly issues: readonly Issue[];
}

/**
 * Decommissions a cluster: checks it may go (no active rollout targets it; unless forced, no AppSet's
 * deletion breaker trips), deletes it with everything keyed by it, re-stages every AppSet, and cuts its
 * agent off: the local gRPC stream is refused at once, a stream on another replica within seconds (the
 * commit notifies every replica's AgentCredentialCheck, which also polls once a second), a reconnect
 * fails authentication (the tokens are gone), and the cluster's keys leave the NATS KV bucket. Workloads already on the cluster are left running.
 */
@Injectable()
export class ClusterDeregistrations {
  private readonly log = new Logger('Clusters');

  constructor(
    private readonly clusters: ClustersService,
    private readonly previews: ClusterChangePreviews,
    private readonly appSets: AppSetsService,
    private readonly sessions: AgentSessions,
    private readonly nats: NatsLink,
  ) {}

  async deregister(name: string, force: boolean): Promise<DeregistrationOutcome> {
    await this.clusters.getRemovable(name);
    const breakers = await this.previews.removalBreakers(name);
    if (breakers.length > 0 && !force) return { cluster: name, deregistered: false, issues: breakers };
    const cluster = await this.clusters.deregister(name);
    this.log.log(`cluster ${name} deregistered${breakers.length > 0 ? ' (forced past the deletion breaker)' : ''}`);
    this.sessions.revoke(cluster.id, `cluster ${name} was deregistered`);
    await this.nats.forgetCluster(name);
    // The cluster's Apps went with its row; re-staging brings every AppSet's condition up to date. Force
    // only reaches the AppSets whose breaker this removal tripped, never an unrelated pending refusal.
    const forced = new Set(breakers.map((b) => b.path));
    for (const appSet of await this.appSets.listAll()) {
      await this.appSets.refresh(appSet, HUB, forced.has(`appSets.${appSet.name}`)).catch((error: unknown) => {
        if (!(error instanceof FlotillaError && error.code === 'NOT_FOUND')) throw error; // deleted meanwhile
      });
    }
    return { cluster: name, deregistered: true, issues: [] };
  }
}
