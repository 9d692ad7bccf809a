import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentFleet, ENROLLED, FLEET_CLUSTERS as CLUSTERS, RENEWED, soakingAppSet, type FleetCluster as ClusterName } from '../harness/agent-fleet.js';
import { eventually } from '../harness/eventually.js';
import { tlsHandshake } from '../harness/tls-probes.js';

/**
 * A rotation of the hub's agent-link CA while a rollout is in flight, with real agents installed with
 * the first CA only (README "Rotating the CA"), with one hub and with three replicas behind a TCP
 * balancer. The agents are told at once, renew from the new CA, keep the bundle the hub sent; when the
 * overlap ends every replica serves a certificate from the new CA without a restart, the rollout does
 * not notice (nothing applied twice), and agents restarted afterwards still reach the hub with the CA
 * they were installed with plus the bundle they kept.
 */
const OVERLAP_SECONDS = 12;
const SOAK = '25s';

const appSet = (value: string) => soakingAppSet(value, SOAK);

interface StoredIdentity {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly caBundlePem?: string;
}

interface Trust {
  bundlePem: string;
  rotationEndsAt: string | null;
  clustersOnRetiringCA: number;
  authorities: { fingerprint: string; role: string }[];
}

const certificatesIn = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const issuedBy = (certificatePem: string, caPem: string) => {
  const certificate = new X509Certificate(certificatePem);
  const ca = new X509Certificate(caPem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
};

describe.each([
  { topology: 'one hub', replicas: 1 },
  { topology: 'three hub replicas behind a TCP balancer', replicas: 3 },
])('agent-link CA rotation mid-rollout with real agents, $topology', ({ replicas }) => {
  let fleet: AgentFleet;
  const registered = new Map<ClusterName, string>();
  let firstCa: string;
  let newCa: string;
  let rotation: Trust;
  let rolloutId: string;

  const api = () => fleet.api();
  const storedIdentity = (cluster: ClusterName) => fleet.storedIdentity(cluster) as StoredIdentity;
  const rollout = () => fleet.rollout(rolloutId);
  // Installed with the first CA only, as `helm install` was before the rotation.
  const launch = (cluster: ClusterName, stateDir?: string) => fleet.launch(cluster, { hubCa: firstCa, bootstrapToken: registered.get(cluster), stateDir });

  beforeAll(async () => {
    fleet = await AgentFleet.start(replicas);
    firstCa = fleet.hubs[0]!.caBundle;
  }, 90_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it('two agents installed with the first CA enroll, and a rollout starts', async () => {
    for (const cluster of CLUSTERS) {
      registered.set(cluster, await fleet.register(cluster));
      launch(cluster);
    }
    await eventually(async () => CLUSTERS.every((cluster) => fleet.logged(cluster, ENROLLED).length === 1) && (await fleet.connected()).size === CLUSTERS.length, {
      what: `both agents enrolled and connected\n${fleet.tails()}`,
      timeoutMs: 30_000,
    });
    for (const cluster of CLUSTERS) expect(issuedBy(storedIdentity(cluster).certificatePem, firstCa)).toBe(true);
    const applied = await api().must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet('v1') });
    expect(applied.applyAppSet.issues).toEqual([]);
    rolloutId = (await api().must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`)).startRollout.id;
  });

  it('on rotation, every agent renews from the new CA at once and keeps the bundle, while the rollout is in flight', async () => {
    rotation = (await api().must<{ rotateAgentLinkCA: Trust }>(`mutation($s: Int) { rotateAgentLinkCA(overlapSeconds: $s) { bundlePem rotationEndsAt clustersOnRetiringCA authorities { fingerprint role } } }`, { s: OVERLAP_SECONDS }))
      .rotateAgentLinkCA;
    newCa = certificatesIn(rotation.bundlePem).find((pem) => !firstCa.includes(pem))!;
    expect(newCa).toBeDefined();

    await eventually(() => CLUSTERS.every((cluster) => fleet.logged(cluster, RENEWED).length === 1), { what: `both agents renewed\n${fleet.tails()}`, timeoutMs: 15_000 });
    expect((await rollout()).phase).toBe('PROGRESSING');
    for (const cluster of CLUSTERS) {
      const identity = storedIdentity(cluster);
      expect(issuedBy(identity.certificatePem, newCa), cluster).toBe(true);
      expect(certificatesIn(identity.caBundlePem ?? '').sort()).toEqual(certificatesIn(rotation.bundlePem).sort());
    }
    await eventually(async () => (await api().must<{ agentLinkTrust: Trust }>(`{ agentLinkTrust { clustersOnRetiringCA } }`)).agentLinkTrust.clustersOnRetiringCA === 0, {
      what: 'no cluster left on the retiring CA',
      timeoutMs: 15_000,
    });
    await eventually(async () => (await fleet.connected()).size === CLUSTERS.length, { what: `both agents connected with their new certificates\n${fleet.tails()}`, timeoutMs: 15_000 });
  });

  it('during the overlap every replica serves a certificate from the first CA', async () => {
    for (const hub of fleet.hubs) expect(await tlsHandshake(hub.grpcAddress, firstCa)).toEqual({ verified: true, issuer: new X509Certificate(firstCa).subject });
  });

  it('when the overlap ends, every replica serves a certificate from the new CA without a restart', async () => {
    const endsAt = Date.parse(rotation.rotationEndsAt!);
    for (const hub of fleet.hubs) {
      await eventually(async () => (await tlsHandshake(hub.grpcAddress, newCa)).verified, { what: `${hub.grpcAddress} serves a certificate from the new CA`, timeoutMs: endsAt - Date.now() + 10_000 });
      expect((await tlsHandshake(hub.grpcAddress, firstCa)).verified).toBe(false);
    }
    expect((await api().must<{ agentLinkTrust: Trust }>(`{ agentLinkTrust { authorities { role } } }`)).agentLinkTrust.authorities.map((a) => a.role)).toEqual(['SIGNING']);
  });

  it('the rollout succeeds and each agent applied its App once', async () => {
    const done = await fleet.succeeded(rolloutId);
    expect(done.phase).toBe('SUCCEEDED');
    const apps = (await api().must<{ appSet: { apps: { name: string; cluster: string; generation: string | null }[] } }>(`{ appSet(name: "web") { apps { name cluster generation } } }`)).appSet.apps;
    expect(apps.map((app) => app.cluster).sort()).toEqual([...CLUSTERS]);
    for (const app of apps) {
      expect(fleet.applies(app.cluster as ClusterName, app.name), app.cluster).toEqual([['driver apply done', app.generation]]);
    }
  });

  it('agents restarted after the rotation reach the hub with the CA they were installed with and the bundle they kept', async () => {
    for (const cluster of CLUSTERS) {
      const { stateDir } = fleet.agentOf(cluster).process;
      await fleet.agentOf(cluster).process.stop();
      launch(cluster, stateDir);
    }
    await eventually(async () => (await fleet.connected()).size === CLUSTERS.length && CLUSTERS.every((cluster) => fleet.agentOf(cluster).logs.some((line) => line.msg === 'agent connected')), {
      what: `both restarted agents connected\n${fleet.tails()}`,
      timeoutMs: 30_000,
    });
  });
});
