import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { AgentTokenEntity } from '../clusters/agent-token.entity';
import { announceCredentialRevocation } from '../clusters/credential-revocation';
import { returnedRows } from '../database/sql';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { FlotillaError } from '../errors';
import { AgentLinkCa } from './agent-link-ca.service';
import { issueClientCertificate, verifyClientCertificate } from './client-certificates';
import { splitCertificates } from './x509';

/** A client certificate handed to an agent, and the row that revokes it. */
export interface AgentCertificate {
  /** The `agent_tokens` row of the certificate (live streams are re-checked against it). */
  readonly id: string;
  readonly certificatePem: string;
  /** PEM of every CA certificate the agent must trust (the one that signed it, and the one that signs the hub's server certificate). */
  readonly caBundlePem: string;
  readonly issuerFingerprint: string;
}

/** A stream authenticated by its client certificate. */
export interface CertificateIdentity {
  readonly clusterId: string;
  readonly clusterName: string;
  readonly credentialId: string;
  /** The CA that signed the certificate (a rotation's retiring CA, or the signing one). */
  readonly issuerFingerprint?: string;
}

const DENIED = 'The agent credential is not valid for this cluster.';

/**
 * Per-cluster client certificates of gRPC agents: issued from a CSR (the subject is always the cluster
 * the caller authenticated, never the request's), recorded in `agent_tokens` (kind `certificate`,
 * keyed by the sha256 of the DER) so that revokeAgentCredentials, deregistration and the once-a-second
 * stream check treat them exactly like bearer credentials, and checked on every connection.
 */
@Injectable()
export class AgentCertificates {
  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly ca: AgentLinkCa,
  ) {}

  /** Signs a certificate for `clusterName` with the key of `csrDer` and records it inside `tx`. Throws INVALID_ARGUMENT for an unusable CSR. */
  async issue(tx: EntityManager, clusterId: string, clusterName: string, csrDer: Uint8Array, now: Date): Promise<AgentCertificate> {
    const ca = await this.ca.ensure();
    const issued = await issueClientCertificate(ca, csrDer, clusterName, now, this.config.agentCertTtlSeconds).catch((error: unknown) => {
      throw new FlotillaError('INVALID_ARGUMENT', `Unusable certificate request: ${error instanceof Error ? error.message : String(error)}.`);
    });
    const inserted = await tx.insert(AgentTokenEntity, { clusterId, kind: 'certificate', secretHash: issued.fingerprint, expiresAt: issued.notAfter });
    return { id: String(inserted.identifiers[0]!['id']), certificatePem: issued.certificatePem, caBundlePem: (await this.ca.trust(now)).bundlePem, issuerFingerprint: ca.fingerprint };
  }

  /**
   * Authenticates a stream by the client certificate TLS presented (DER) for the cluster its Hello
   * names: issued by the agent-link CA, valid now, naming exactly that cluster, and recorded and not
   * revoked. UNAUTHENTICATED otherwise; the error never says which check failed. The first use of a
   * renewed certificate retires what the cluster held before it (the certificate it replaced, or the
   * bearer credential of an agent that moved to certificates); an older certificate never retires a newer one.
   */
  async authenticate(der: Uint8Array, clusterName: string, now: Date): Promise<CertificateIdentity> {
    const denied = new FlotillaError('UNAUTHENTICATED', DENIED);
    const trust = await this.ca.trust(now);
    const check = verifyClientCertificate(der, splitCertificates(trust.bundlePem), now);
    if (check.kind !== 'valid' || check.clusterName !== clusterName) throw denied;
    return this.db.transaction(async (tx) => {
      const row = await tx.findOne(AgentTokenEntity, { where: { secretHash: check.fingerprint, kind: 'certificate' }, relations: { cluster: true } });
      if (!row || row.revokedAt || row.cluster.name !== clusterName || (row.expiresAt && row.expiresAt <= now)) throw denied;
      const retired = returnedRows<{ id: string }>(
        await tx.query(
          `UPDATE agent_tokens SET revoked_at = $3
           WHERE cluster_id = $1 AND kind IN ('credential', 'certificate') AND revoked_at IS NULL AND created_at < $2 AND id <> $4::uuid
           RETURNING id`,
          [row.clusterId, row.createdAt, now, row.id],
        ),
      );
      if (retired.length > 0) await announceCredentialRevocation(tx);
      return { clusterId: row.clusterId, clusterName, credentialId: row.id, issuerFingerprint: check.issuerFingerprint };
    });
  }

  /** Clusters holding an unrevoked, unexpired client certificate issued before `since` (by the CA a rotation retires). */
  async countIssuedBefore(since: Date, now: Date): Promise<number> {
    const [row] = returnedRows<{ count: string }>(
      await this.db.query(
        `SELECT count(DISTINCT cluster_id)::text AS count FROM agent_tokens
         WHERE kind = 'certificate' AND revoked_at IS NULL AND expires_at > $2 AND created_at < $1`,
        [since, now],
      ),
    );
    return Number(row?.count ?? 0);
  }

  /**
   * Issues a new certificate for the cluster of a live stream whose credential still holds. What the
   * stream holds stays valid until the agent connects with the new certificate (see
   * {@link authenticate}): a renewal whose answer is lost leaves the agent with a working certificate.
   * UNAUTHENTICATED when the stream's credential was revoked meanwhile; INVALID_ARGUMENT for a bad CSR.
   */
  async renew(stream: CertificateIdentity, csrDer: Uint8Array, now: Date): Promise<AgentCertificate> {
    return this.db.transaction(async (tx) => {
      const held = await tx.findOne(AgentTokenEntity, { where: { id: stream.credentialId, clusterId: stream.clusterId, revokedAt: IsNull() }, lock: { mode: 'pessimistic_read' } });
      if (!held) throw new FlotillaError('UNAUTHENTICATED', DENIED);
      return this.issue(tx, stream.clusterId, stream.clusterName, csrDer, now);
    });
  }
}
