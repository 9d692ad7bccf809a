import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { FlotillaError } from '../errors';
import { AgentCertificates, type AgentCertificate } from '../trust/agent-certificates.service';
import { AgentTokenEntity, STREAM_CREDENTIAL_KINDS } from './agent-token.entity';
import { ClusterEntity } from './cluster.entity';
import { countSql, groupsSql, pageSql, type ClusterQuery } from './cluster-query';
import { assertClusterName, assertLabels, assertValues } from './labels';
import { announceCredentialRevocation, revokeCredentials } from './credential-revocation';
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
  /**
   * True when the cluster already held a live agent credential: a re-install. That credential keeps
   * working until an agent exchanges this token, and is revoked then.
   */
  readonly reinstall: boolean;
}

/** What revokeAgentCredentials did. */
export interface CredentialRevocation {
  /** The cluster, still registered, its connection cleared. */
  readonly cluster: ClusterEntity;
  readonly revokedAt: Date;
  /** Live agent credentials revoked (0 when there was none). */
  readonly revokedCredentials: number;
  /** Unused bootstrap tokens revoked with them (a re-install needs a new one). */
  readonly revokedBootstrapTokens: number;
}

/** The outcome of authenticating an agent: its cluster and, after a bootstrap, its new credential. */
export interface AgentIdentity {
  readonly clusterId: string;
  readonly clusterName: string;
  /** The id of the credential the stream holds (live streams are re-checked against it). */
  readonly credentialId: string;
  /** Set when a bootstrap token was exchanged without a CSR: the durable credential to hand to the agent once. */
  readonly issuedCredential?: string;
  /** Set when a bootstrap token was exchanged with a CSR: the client certificate to hand to the agent. */
  readonly issuedCertificate?: AgentCertificate;
  /** Earlier credentials of the cluster revoked by this exchange (a re-install); 0 otherwise. */
  readonly replacedCredentials?: number;
  /** Set for a client certificate: the fingerprint of the CA that signed it (a rotation asks for a new one when it is not the signing CA). */
  readonly issuerFingerprint?: string;
}

/** What {@link ClustersService.search} found. */
export interface ClusterSearchResult {
  /** The page, in page order. */
  readonly clusters: ClusterEntity[];
  /** Clusters matching the query, and how many of them are connected. */
  readonly total: number;
  readonly connected: number;
  /** Matches per value of the groupBy label (null: without it), in page order; [] without groupBy. */
  readonly groups: { readonly value: string | null; readonly count: number }[];
}

/** A pending cluster change, as previews see it (see {@link ClustersService.snapshotWith}). */
export interface ClusterSnapshotChange {
  readonly cluster: string;
  readonly labels?: Record<string, string>;
  readonly values?: Record<string, string>;
  /** Deregistration: the cluster leaves the snapshot. */
  readonly remove?: boolean;
}

/** How long after its last heartbeat an agent still counts as connected, in heartbeat intervals. */
const CONNECTED_GRACE_INTERVALS = 3;

@Injectable()
export class ClustersService {
  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly certificates: AgentCertificates,
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
      return { cluster, ...(await this.createBootstrapToken(tx, cluster.id, now)), reinstall: false };
    });
  }

  /**
   * Issues a fresh one-time bootstrap token for a registered cluster (a re-install, or the first one
   * expired). When the cluster holds a live agent credential this is a re-install: the credential is
   * left alone here, and revoked when an agent exchanges the new token (see {@link authenticateAgent}).
   */
  async issueBootstrapToken(name: string, now: Date): Promise<IssuedToken> {
    return this.db.transaction(async (tx) => {
      const cluster = await tx.findOne(ClusterEntity, { where: { name } });
      if (!cluster) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
      const live = await tx.countBy(AgentTokenEntity, { clusterId: cluster.id, kind: In([...STREAM_CREDENTIAL_KINDS]), revokedAt: IsNull() });
      return { cluster, ...(await this.createBootstrapToken(tx, cluster.id, now)), reinstall: live > 0 };
    });
  }

  /**
   * Revokes every agent credential of a cluster and its unused bootstrap tokens, and clears its
   * connection; the cluster stays registered (an operator issues a bootstrap token to re-install).
   * Committing announces the revocation: each replica then cuts the cluster's live stream (see
   * AgentCredentialCheck). NOT_FOUND for an unknown cluster; revoking twice is harmless.
   */
  async revokeAgentCredentials(name: string, now: Date): Promise<CredentialRevocation> {
    return this.db.transaction(async (tx) => {
      const cluster = await tx.findOne(ClusterEntity, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!cluster) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
      const credentials = await revokeCredentials(tx, cluster.id, now);
      const bootstrap = await tx.update(AgentTokenEntity, { clusterId: cluster.id, kind: 'bootstrap', usedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: now });
      // The stream is being cut on whichever replica holds it; `connected` must not wait for that.
      await tx.update(ClusterEntity, { id: cluster.id }, { connectedReplica: null, connectedSince: null });
      cluster.connectedReplica = null;
      cluster.connectedSince = null;
      return { cluster, revokedAt: now, revokedCredentials: credentials, revokedBootstrapTokens: bootstrap.affected ?? 0 };
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

  /** Every cluster, by name (callers filter by access). */
  async listAll(): Promise<ClusterEntity[]> {
    return this.db.getRepository(ClusterEntity).find({ order: { name: 'ASC' } });
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
   * `labels` and `values` (what registerCluster does); `remove` leaves a registered cluster out (what
   * deregisterCluster does). Values of a registered cluster cannot change. Throws INVALID_ARGUMENT for a
   * change that the mutations would refuse, NOT_FOUND for the removal of an unknown cluster.
   */
  async snapshotWith(change: ClusterSnapshotChange): Promise<ClusterSnapshot[]> {
    const current = await this.snapshot();
    const existing = current.find((c) => c.name === change.cluster);
    if (change.remove) {
      if (change.labels !== undefined || change.values !== undefined) throw new FlotillaError('INVALID_ARGUMENT', 'A removal takes no labels or values.');
      if (!existing) throw new FlotillaError('NOT_FOUND', `Cluster "${change.cluster}" is not registered.`);
      return current.filter((c) => c !== existing);
    }
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
    return cluster.lastSeenAt.getTime() >= this.connectedAfter(now).getTime();
  }

  /** The earliest last-seen instant at which a cluster holding a stream still counts as connected at `now`. */
  connectedAfter(now: Date): Date {
    return new Date(now.getTime() - CONNECTED_GRACE_INTERVALS * this.config.heartbeatIntervalSeconds * 1000);
  }

  /**
   * One page of the clusters a query matches (see cluster-query.ts), with the counts of the whole match
   * and per group, all read from one snapshot so that they agree.
   */
  async search(query: ClusterQuery, first: number, offset: number): Promise<ClusterSearchResult> {
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const count = countSql(query);
      const [counts] = (await tx.query(count.text, count.params)) as { total: number; connected: number }[];
      let groups: { value: string | null; count: number }[] = [];
      if (query.groupBy !== undefined) {
        const grouped = groupsSql({ ...query, groupBy: query.groupBy });
        groups = (await tx.query(grouped.text, grouped.params)) as { value: string | null; count: number }[];
      }
      const page = pageSql(query, first, offset);
      const ids = ((await tx.query(page.text, page.params)) as { id: string }[]).map((row) => row.id);
      const rows = ids.length === 0 ? [] : await tx.findBy(ClusterEntity, { id: In(ids) });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return {
        clusters: ids.flatMap((id) => byId.get(id) ?? []),
        total: counts?.total ?? 0,
        connected: counts?.connected ?? 0,
        groups: groups.map(({ value, count }) => ({ value, count })),
      };
    });
  }

  /**
   * Authenticates an agent's secret for the cluster it names. A bootstrap token must be unexpired and
   * unused, and is consumed atomically (two agents racing with one token: one wins). A credential must
   * not be revoked. The cluster must match exactly. Failures never say which check failed. A bootstrap
   * token with `csrDer` enrolls a client certificate for the token's cluster instead of a bearer
   * credential (INVALID_ARGUMENT, and the token stays unused, when the CSR is unusable).
   */
  async authenticateAgent(secret: string, clusterName: string, now: Date, csrDer: Uint8Array = new Uint8Array()): Promise<AgentIdentity> {
    const denied = new FlotillaError('UNAUTHENTICATED', 'The agent credential is not valid for this cluster.');
    if (!secret || secret.length > 256) throw denied;
    return this.db.transaction(async (tx) => {
      const token = await tx.findOne(AgentTokenEntity, { where: { secretHash: hashSecret(secret) }, relations: { cluster: true } });
      if (!token || token.revokedAt || token.cluster.name !== clusterName) throw denied;
      if (token.kind === 'credential') return { clusterId: token.clusterId, clusterName, credentialId: token.id };
      if (token.usedAt || (token.expiresAt && token.expiresAt <= now)) throw denied;
      const consumed = await tx.update(AgentTokenEntity, { id: token.id, usedAt: IsNull() }, { usedAt: now });
      if (consumed.affected !== 1) throw denied;
      if (csrDer.length > 0) {
        // The certificate names the token's cluster (checked equal to clusterName above), not the CSR's subject.
        const issuedCertificate = await this.certificates.issue(tx, token.clusterId, token.cluster.name, csrDer, now);
        const replacedCredentials = await revokeCredentials(tx, token.clusterId, now, issuedCertificate.id);
        return { clusterId: token.clusterId, clusterName, credentialId: issuedCertificate.id, issuedCertificate, replacedCredentials };
      }
      const credential = newSecret(CREDENTIAL_PREFIX);
      const inserted = await tx.insert(AgentTokenEntity, { clusterId: token.clusterId, kind: 'credential', secretHash: hashSecret(credential) });
      const credentialId = String(inserted.identifiers[0]!['id']);
      // A re-install: the new agent is enrolled, so the credential of the one it replaces ends here.
      const replacedCredentials = await revokeCredentials(tx, token.clusterId, now, credentialId);
      return { clusterId: token.clusterId, clusterName, credentialId, issuedCredential: credential, replacedCredentials };
    });
  }

  /**
   * Consumes a one-time bootstrap token of `clusterName` without issuing a gRPC credential: the NATS
   * enrollment exchanges it for a user JWT instead. Same checks and the same single winner as
   * {@link authenticateAgent}; failures never say which check failed.
   */
  async redeemBootstrapToken(secret: string, clusterName: string, now: Date): Promise<{ readonly clusterId: string }> {
    const denied = new FlotillaError('UNAUTHENTICATED', 'The bootstrap token is not valid for this cluster.');
    if (!secret || secret.length > 256) throw denied;
    return this.db.transaction(async (tx) => {
      const token = await tx.findOne(AgentTokenEntity, { where: { secretHash: hashSecret(secret), kind: 'bootstrap' }, relations: { cluster: true } });
      if (!token || token.revokedAt || token.usedAt || token.cluster.name !== clusterName || (token.expiresAt && token.expiresAt <= now)) throw denied;
      const consumed = await tx.update(AgentTokenEntity, { id: token.id, usedAt: IsNull() }, { usedAt: now });
      if (consumed.affected !== 1) throw denied;
      // A re-install onto NATS: a gRPC credential the cluster held ends with this enrollment, as in
      // authenticateAgent. (Earlier NATS users of the cluster are the NATS enrollment's to revoke.)
      await revokeCredentials(tx, token.clusterId, now);
      return { clusterId: token.clusterId };
    });
  }

  /** True while a cluster of that name is registered. */
  async isRegistered(name: string): Promise<boolean> {
    return (await this.db.getRepository(ClusterEntity).countBy({ name })) > 0;
  }

  /** Marks the cluster connected to this replica; false when the cluster is gone (deregistered). */
  async markConnected(clusterId: string, agentVersion: string, now: Date): Promise<boolean> {
    const result = await this.db.getRepository(ClusterEntity).update(
      { id: clusterId },
      { connectedReplica: this.config.replicaId, connectedSince: now, lastSeenAt: now, agentVersion: agentVersion.slice(0, 64) },
    );
    return result.affected !== 0;
  }

  /**
   * Keeps last-seen fresh; false when the cluster is gone. This periodic write is how a replica holding
   * the stream of a cluster deregistered through another replica finds out and cuts the agent off.
   */
  async markSeen(clusterId: string, now: Date): Promise<boolean> {
    const result = await this.db.getRepository(ClusterEntity).update({ id: clusterId }, { lastSeenAt: now });
    return result.affected !== 0;
  }

  /**
   * The registered cluster, unless a rollout that is PROGRESSING or PAUSED targets it: deregistering it
   * then would pull a target out from under the rollout's waves. NOT_FOUND, FAILED_PRECONDITION.
   */
  async getRemovable(name: string): Promise<ClusterEntity> {
    return this.removable(this.db.manager, name);
  }

  private async removable(tx: EntityManager, name: string, lock = false): Promise<ClusterEntity> {
    const cluster = await tx.findOne(ClusterEntity, { where: { name }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!cluster) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
    const active: { id: string; phase: string }[] = await tx.query(
      `SELECT r.id, r.phase FROM rollout_clusters rc JOIN rollouts r ON r.id = rc.rollout_id
       WHERE rc.cluster_id = $1 AND r.phase IN ('PROGRESSING', 'PAUSED') ORDER BY r.started_at, r.id LIMIT 1`,
      [cluster.id],
    );
    const rollout = active[0];
    if (rollout) {
      throw new FlotillaError(
        'FAILED_PRECONDITION',
        `Cluster "${name}" is a target of rollout ${rollout.id} (${rollout.phase}); abort the rollout or let it finish, then deregister the cluster.`,
      );
    }
    return cluster;
  }

  /**
   * Deletes a cluster in one transaction: its row (its agent tokens and Apps cascade), its App statuses
   * and its undelivered outbox rows. Re-checks {@link getRemovable} under a row lock. The agent's
   * credential is gone with the tokens, so every later authentication fails. Returns the deleted row.
   */
  async deregister(name: string): Promise<ClusterEntity> {
    return this.db.transaction(async (tx) => {
      const cluster = await this.removable(tx, name, true);
      await tx.query(`DELETE FROM app_statuses WHERE cluster_id = $1`, [cluster.id]);
      await tx.query(`DELETE FROM outbox WHERE cluster_id = $1`, [cluster.id]);
      await tx.delete(ClusterEntity, { id: cluster.id });
      // Its credentials went with the row: every replica's stream check cuts its agent at once.
      await announceCredentialRevocation(tx);
      return cluster;
    });
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
