import { X509Certificate, createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentFleet, ENROLLED, FLEET_CLUSTERS as CLUSTERS, RENEWED, soakingAppSet, type FleetCluster as ClusterName } from '../harness/agent-fleet.js';
import { eventually } from '../harness/eventually.js';
import { probeAgentStream, type ProbeClientCertificate } from '../harness/probes.js';

/**
 * Client certificates of gRPC agents renewed for real (README "Agent client certificates"), with one
 * hub and with three replicas over one database behind a TCP balancer. The hub issues 60-second
 * certificates (FLOTILLA_AGENT_CERT_TTL_SECONDS), so each agent renews at two thirds of its
 * certificate's validity (about 40 s after enrolling) while a rollout soaks. The rollout must not
 * notice (RELIABILITY row 20: streams resume with the new credential, nothing is applied again), the
 * replaced certificate must be refused by every replica although it has not expired, and a certificate
 * for edge-1 must never pass for edge-2 (row 11).
 */
const CERT_TTL_SECONDS = 60;
/** Longer than the time from the agents' enrollment to their renewal, so that both renew mid-rollout. */
const SOAK = '45s';

const appSet = (value: string) => soakingAppSet(value, SOAK);

interface StoredIdentity extends ProbeClientCertificate {
  readonly caBundlePem?: string;
}

interface CertificateRow {
  readonly fingerprint: string;
  readonly revoked: boolean;
}

interface AppView {
  name: string;
  cluster: string;
  generation: string | null;
  revision: string | null;
  health: string;
  healthRevision: string | null;
}

const fingerprintOf = (certificatePem: string) => createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');

describe.each([
  { topology: 'one hub', replicas: 1 },
  { topology: 'three hub replicas behind a TCP balancer', replicas: 3 },
])('agent client certificates of 60 s renewed mid-rollout, $topology', ({ replicas }) => {
  let fleet: AgentFleet;
  /** What each agent held right after enrolling: the certificate that renewal replaces. */
  const enrolled = new Map<ClusterName, StoredIdentity>();
  let rolloutId: string;

  const api = () => fleet.api();
  const storedIdentity = (cluster: ClusterName) => fleet.storedIdentity(cluster) as StoredIdentity;
  const apps = async () => (await api().must<{ appSet: { apps: AppView[] } }>(`{ appSet(name: "web") { apps { name cluster generation revision health healthRevision } } }`)).appSet.apps;
  const rollout = () => fleet.rollout(rolloutId);
  /** The `agent_tokens` rows of kind certificate of `cluster`, oldest first: what the hub issued and revoked. */
  const certificateRows = async (cluster: ClusterName): Promise<CertificateRow[]> => {
    const client = new pg.Client({ connectionString: fleet.db.url });
    await client.connect();
    try {
      const result = await client.query<{ fingerprint: string; revoked: boolean }>(
        `SELECT t.secret_hash AS fingerprint, t.revoked_at IS NOT NULL AS revoked FROM agent_tokens t JOIN clusters c ON c.id = t.cluster_id
         WHERE c.name = $1 AND t.kind = 'certificate' ORDER BY t.created_at, t.id`,
        [cluster],
      );
      return result.rows;
    } finally {
      await client.end();
    }
  };
  /** Says Hello as `cluster` to each replica directly (not through the balancer), presenting `certificate`. */
  const probeEveryReplica = (cluster: ClusterName, certificate: ProbeClientCertificate) =>
    Promise.all(fleet.hubs.map((hub) => probeAgentStream(hub.grpcAddress, hub.caBundle, cluster, undefined, 10_000, certificate)));

  beforeAll(async () => {
    fleet = await AgentFleet.start(replicas, { FLOTILLA_AGENT_CERT_TTL_SECONDS: String(CERT_TTL_SECONDS) });
  }, 90_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it('two agents enroll a 60-second client certificate for their own cluster', async () => {
    // Given two registered clusters
    for (const cluster of CLUSTERS) {
      const bootstrapToken = await fleet.register(cluster);
      // When their agents start with a bootstrap token (debug logs count every apply)
      fleet.launch(cluster, { hubCa: fleet.hubs[0]!.caBundle, bootstrapToken });
    }

    // Then both connect and hold a certificate for their own cluster, valid 60 s from issuance
    await eventually(async () => CLUSTERS.every((cluster) => fleet.logged(cluster, ENROLLED).length === 1) && (await fleet.connected()).size === CLUSTERS.length, {
      what: `both agents enrolled and connected\n${fleet.tails()}`,
      timeoutMs: 30_000,
    });
    for (const cluster of CLUSTERS) {
      const identity = storedIdentity(cluster);
      const certificate = new X509Certificate(identity.certificatePem);
      expect(certificate.subject).toBe(`CN=${cluster}`);
      // Backdated by a tenth of the lifetime at most, so that the renewal point lies after issuance.
      expect(new Date(certificate.validTo).getTime() - new Date(certificate.validFrom).getTime()).toBe(66_000);
      enrolled.set(cluster, identity);
      expect(await certificateRows(cluster)).toEqual([{ fingerprint: fingerprintOf(identity.certificatePem), revoked: false }]);
    }
  });

  it('each agent renews mid-rollout: a new certificate is issued, and the old one revoked once the new one is used', async () => {
    // Given a rollout that soaks past the agents' renewal point
    const applied = await api().must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet('v1') });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api().must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`);
    rolloutId = startRollout.id;

    // When each agent reaches two thirds of its certificate's validity (about 40 s after enrolling)
    await eventually(() => CLUSTERS.every((cluster) => fleet.logged(cluster, RENEWED).length === 1), { what: `both agents renewed\n${fleet.tails()}`, timeoutMs: 60_000 });

    // Then the rollout is still in flight
    expect((await rollout()).phase).toBe('PROGRESSING');
    for (const cluster of CLUSTERS) {
      // And the agent holds a new key and a new certificate for its cluster, which it reconnected with
      const renewed = storedIdentity(cluster);
      expect(renewed.privateKeyPem).not.toBe(enrolled.get(cluster)!.privateKeyPem);
      expect(new X509Certificate(renewed.certificatePem).subject).toBe(`CN=${cluster}`);
      // And the hub recorded the new certificate and revoked the old one once the new one was used
      await eventually(
        async () => {
          const rows = await certificateRows(cluster);
          return JSON.stringify(rows) === JSON.stringify([
            { fingerprint: fingerprintOf(enrolled.get(cluster)!.certificatePem), revoked: true },
            { fingerprint: fingerprintOf(renewed.certificatePem), revoked: false },
          ]) && rows;
        },
        { what: `${cluster}: old certificate revoked, new one live\n${fleet.agentOf(cluster).process.tail(15)}`, timeoutMs: 15_000 },
      );
    }
    await eventually(async () => (await fleet.connected()).size === CLUSTERS.length, { what: `both agents connected with their new certificates\n${fleet.tails()}`, timeoutMs: 15_000 });
  });

  it('the replaced certificate is refused by every replica although it has not expired yet', async () => {
    for (const cluster of CLUSTERS) {
      // Given the certificate the agent enrolled with, replaced and revoked but still within its validity
      const old = enrolled.get(cluster)!;
      expect(Date.now()).toBeLessThan(new Date(new X509Certificate(old.certificatePem).validTo).getTime());

      // When a client presents it, with its key, to each replica
      const outcomes = await probeEveryReplica(cluster, old);

      // Then every replica refuses it
      expect(outcomes).toEqual(fleet.hubs.map(() => ({ refusal: 'UNAUTHENTICATED', welcomed: false, status: grpc.status.UNAUTHENTICATED })));
    }
  });

  it('the rollout succeeds and each agent applied its App once, for the one generation released', async () => {
    const done = await fleet.succeeded(rolloutId);
    expect(done.phase).toBe('SUCCEEDED');
    const final = await apps();
    expect(final.map((app) => app.cluster).sort()).toEqual([...CLUSTERS]);
    for (const app of final) {
      expect(app).toMatchObject({ health: 'HEALTHY', healthRevision: app.revision });
      // Every driver apply of the App (done, unchanged or failed): one, across the renewal's reconnect.
      expect(fleet.applies(app.cluster as ClusterName, app.name), app.cluster).toEqual([['driver apply done', app.generation]]);
    }
  });

  it("edge-1's certificate is refused as edge-2 by every replica, and accepted as edge-1", async () => {
    // Given edge-1's live certificate
    const edge1 = storedIdentity('edge-1');

    // When it is presented as edge-2, then as edge-1
    const asEdge2 = await probeEveryReplica('edge-2', edge1);
    const asEdge1 = await probeEveryReplica('edge-1', edge1);

    // Then it names only its own cluster (the accepted probe shows the refusal is not the probe's TLS)
    expect(asEdge2).toEqual(fleet.hubs.map(() => ({ refusal: 'UNAUTHENTICATED', welcomed: false, status: grpc.status.UNAUTHENTICATED })));
    expect(asEdge1).toEqual(fleet.hubs.map(() => ({ refusal: undefined, welcomed: true, status: grpc.status.OK })));
  });
});
