import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { FlotillaError } from '../errors';
import { AgentTokenEntity } from './agent-token.entity';
import { ClusterEntity } from './cluster.entity';
import { assertClusterName, assertLabels, assertValues } from './labels';
import { BOOTSTRAP_PREFIX, CREDENTIAL_PREFIX, hashSecret, newSecret } from './secrets';

export interface RegisterClusterCommand {
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly values?: Record<string, string>;
}

export interface IssuedToken {
  readonly cluster: ClusterEntity;
  /** The secret, shown once; only its hash is stored. */
  readonly bootstrapToken: string;
  readonly expiresAt: Date;
}

/** The outcome of authenticating an agent: its cluster and, after a bootstrap, its new credential. */
export interface AgentIdentity {
  readonly clusterId: string;
  readonly clusterName: string;
  /** Set when a bootstrap token was exchanged: the durable credential to hand to the agent once. */
  readonly issuedCredential?: string;
}

/** How long after its last heartbeat an agent still counts as connected, in heartbeat intervals. */
const CONNECTED_GRACE_INTERVALS = 3;

@Injectable()
export class ClustersService {
  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** Registers a cluster and returns it with a one-time bootstrap token (shown once, stored hashed). */
  async register(command: RegisterClusterCommand, now: Date): Promise<IssuedToken> {
    assertClusterName(command.name);
    const labels = command.labels ?? {};
    const values = command.values ?? {};
    assertLabels(labels);
    assertValues(values);
    return this.db.transaction(async (tx) => {
      const existing = await tx.findOne(ClusterEntity, { where: { name: command.name } });
      if (existing) throw new FlotillaError('ALREADY_EXISTS', `Cluster "${command.name}" is already registered.`);
      const cluster = await tx.save(tx.create(ClusterEntity, { name: command.name, labels, values }));
      return { cluster, ...(await this.createBootstrapToken(tx, cluster.id, now)) };
    });
  }

  /** Issues a fresh one-time bootstrap token for a registered cluster (for a reinstall or an expired token). */
  async issueBootstrapToken(name: string, now: Date): Promise<IssuedToken> {
    return this.db.transaction(async (tx) => {
      const cluster = await tx.findOne(ClusterEntity, { where: { name } });
      if (!cluster) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
      return { cluster, ...(await this.createBootstrapToken(tx, cluster.id, now)) };
    });
  }

  /** Changes a cluster's labels (used by selectors and waves). Takes effect at the next staging. */
  async setLabels(name: string, labels: Record<string, string>): Promise<ClusterEntity> {
    assertLabels(labels);
    const cluster = await this.get(name);
    cluster.labels = labels;
    return this.db.getRepository(ClusterEntity).save(cluster);
  }

  async list(first: number, offset: number): Promise<ClusterEntity[]> {
    return this.db.getRepository(ClusterEntity).find({ order: { name: 'ASC' }, take: first, skip: offset });
  }

  async find(name: string): Promise<ClusterEntity | null> {
    return this.db.getRepository(ClusterEntity).findOne({ where: { name } });
  }

  async get(name: string): Promise<ClusterEntity> {
    const cluster = await this.find(name);
    if (!cluster) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
    return cluster;
  }

  /** The clusters as generators see them (resolve step of resolve-then-evaluate). */
  async snapshot(tx: EntityManager = this.db.manager): Promise<ClusterSnapshot[]> {
    const rows = await tx.find(ClusterEntity, { order: { name: 'ASC' } });
    return rows.map((c) => ({ name: c.name, labels: c.labels, values: c.values }));
  }

  /**
   * The cluster snapshot as it would be after a pending change, for previews: `labels` replace the
   * labels of a registered cluster (what setClusterLabels does); an unregistered name is added with
   * `labels` and `values` (what registerCluster does). Values of a registered cluster cannot change.
   * Throws INVALID_ARGUMENT for a change that the mutations would refuse.
   */
  async snapshotWith(change: { readonly cluster: string; readonly labels?: Record<string, string>; readonly values?: Record<string, string> }): Promise<ClusterSnapshot[]> {
    const current = await this.snapshot();
    const existing = current.find((c) => c.name === change.cluster);
    if (existing) {
      if (change.values !== undefined) throw new FlotillaError('INVALID_ARGUMENT', `The values of registered cluster "${change.cluster}" cannot be changed; preview a labels change.`);
      if (change.labels === undefined) throw new FlotillaError('INVALID_ARGUMENT', `Give the new labels of cluster "${change.cluster}" to preview.`);
      assertLabels(change.labels);
      return current.map((c) => (c.name === change.cluster ? { ...c, labels: change.labels! } : c));
    }
    assertClusterName(change.cluster);
    const labels = change.labels ?? {};
    const values = change.values ?? {};
    assertLabels(labels);
    assertValues(values);
    return [...current, { name: change.cluster, labels, values }].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** True when an agent holds a stream to some replica and was heard from recently. */
  isConnected(cluster: ClusterEntity, now: Date): boolean {
    if (!cluster.connectedReplica || !cluster.lastSeenAt) return false;
    const graceMs = CONNECTED_GRACE_INTERVALS * this.config.heartbeatIntervalSeconds * 1000;
    return now.getTime() - cluster.lastSeenAt.getTime() <= graceMs;
  }

  /**
   * Authenticates an agent's secret for the cluster it names. A bootstrap token must be unexpired and
   * unused, and is consumed atomically (two agents racing with one token: one wins). A credential must
   * not be revoked. The cluster must match exactly. Failures never say which check failed.
   */
  async authenticateAgent(secret: string, clusterName: string, now: Date): Promise<AgentIdentity> {
    const denied = new FlotillaError('UNAUTHENTICATED', 'The agent credential is not valid for this cluster.');
    if (!secret || secret.length > 256) throw denied;
    return this.db.transaction(async (tx) => {
      const token = await tx.findOne(AgentTokenEntity, { where: { secretHash: hashSecret(secret) }, relations: { cluster: true } });
      if (!token || token.revokedAt || token.cluster.name !== clusterName) throw denied;
      if (token.kind === 'credential') return { clusterId: token.clusterId, clusterName };
      if (token.usedAt || (token.expiresAt && token.expiresAt <= now)) throw denied;
      const consumed = await tx.update(AgentTokenEntity, { id: token.id, usedAt: IsNull() }, { usedAt: now });
      if (consumed.affected !== 1) throw denied;
      const credential = newSecret(CREDENTIAL_PREFIX);
      await tx.insert(AgentTokenEntity, { clusterId: token.clusterId, kind: 'credential', secretHash: hashSecret(credential) });
      return { clusterId: token.clusterId, clusterName, issuedCredential: credential };
    });
  }

  async markConnected(clusterId: string, agentVersion: string, now: Date): Promise<void> {
    await this.db.getRepository(ClusterEntity).update(
      { id: clusterId },
      { connectedReplica: this.config.replicaId, connectedSince: now, lastSeenAt: now, agentVersion: agentVersion.slice(0, 64) },
    );
  }

  async markSeen(clusterId: string, now: Date): Promise<void> {
    await this.db.getRepository(ClusterEntity).update({ id: clusterId }, { lastSeenAt: now });
  }

  /** Clears the connection only if this replica still holds it (the agent may have moved on). */
  async markDisconnected(clusterId: string): Promise<void> {
    await this.db
      .getRepository(ClusterEntity)
      .update({ id: clusterId, connectedReplica: this.config.replicaId }, { connectedReplica: null, connectedSince: null });
  }

  private async createBootstrapToken(tx: EntityManager, clusterId: string, now: Date): Promise<{ bootstrapToken: string; expiresAt: Date }> {
    const bootstrapToken = newSecret(BOOTSTRAP_PREFIX);
    const expiresAt = new Date(now.getTime() + this.config.bootstrapTokenTtlSeconds * 1000);
    await tx.insert(AgentTokenEntity, { clusterId, kind: 'bootstrap', secretHash: hashSecret(bootstrapToken), expiresAt });
    return { bootstrapToken, expiresAt };
  }
}
