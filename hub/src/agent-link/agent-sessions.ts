import { Injectable } from '@nestjs/common';
import type { ConnectResponse } from '@flotilla/proto';
import type { AgentLinkTrust } from '../trust/agent-link-ca.service';

/** One live agent stream on this replica, as the rest of the hub sees it. */
export interface AgentSession {
  readonly clusterId: string;
  readonly clusterName: string;
  /** The agent credential the stream authenticated with (re-checked while the stream lives). */
  readonly credentialId: string;
  /** Queues a message on the stream; false if the stream is gone. */
  send(message: ConnectResponse): boolean;
  /** Ends the stream (a newer stream for the same cluster replaced it, or shutdown). */
  close(reason: string): void;
  /** Ends the stream with an UNAUTHENTICATED refusal: the agent's identity is no longer valid. */
  revoke(reason: string): void;
  /** The agent-link CAs changed (gRPC streams over TLS): tell the agent, or cut it off when its certificate's CA is no longer trusted. */
  trustChanged?(trust: AgentLinkTrust): void;
}

/** The agent streams connected to this replica, at most one per cluster (the newest wins). */
@Injectable()
export class AgentSessions {
  private readonly byCluster = new Map<string, AgentSession>();

  /**
   * Registers a session; an older session of the same cluster is closed, or refused as UNAUTHENTICATED
   * when `revokeReason` says its credential was just revoked (a re-installed agent enrolled). The older
   * one is unregistered first, so ending it leaves the cluster's connection to the new one.
   */
  add(session: AgentSession, revokeReason?: string): void {
    const previous = this.byCluster.get(session.clusterId);
    this.byCluster.set(session.clusterId, session);
    if (!previous || previous === session) return;
    if (revokeReason) previous.revoke(revokeReason);
    else previous.close('replaced by a newer connection of the same cluster');
  }

  /** Removes a session if it is still the registered one; returns whether it was. */
  remove(session: AgentSession): boolean {
    if (this.byCluster.get(session.clusterId) !== session) return false;
    this.byCluster.delete(session.clusterId);
    return true;
  }

  /** Cuts off the cluster's agent, if its stream is on this replica (deregistered, or its credential revoked). */
  revoke(clusterId: string, reason: string): void {
    this.byCluster.get(clusterId)?.revoke(reason);
  }

  get(clusterId: string): AgentSession | undefined {
    return this.byCluster.get(clusterId);
  }

  /** Every live session of this replica. */
  list(): AgentSession[] {
    return [...this.byCluster.values()];
  }

  clusterIds(): string[] {
    return [...this.byCluster.keys()];
  }

  get size(): number {
    return this.byCluster.size;
  }

  closeAll(reason: string): void {
    for (const session of [...this.byCluster.values()]) session.close(reason);
    this.byCluster.clear();
  }
}
