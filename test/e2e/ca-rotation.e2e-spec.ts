import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { recordJsonLines, type AgentLogLine } from '../harness/nats-operator.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';
import { tlsHandshake } from '../harness/tls-probes.js';
import { webAppSet } from '../harness/app-sets.js';

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
const CLUSTERS = ['edge-1', 'edge-2'] as const;
type ClusterName = (typeof CLUSTERS)[number];
const IDENTITY_FILE = 'client-identity.json';
const RENEWED = 'received a renewed client certificate and stored it';
const ENROLLED = 'enrolled a client certificate and stored it';

const appSet = (value: string) => webAppSet({ value, byLabel: `maxConcurrency: "100%", maxFailures: 0, soak: ${SOAK}, progressDeadline: 2m` });

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

interface Agent {
  process: ManagedProcess & { stateDir: string };
  logs: AgentLogLine[];
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
  let db: TestDatabase;
  const hubs: HubProcess[] = [];
  let balancer: TcpBalancer | undefined;
  const agents = new Map<ClusterName, Agent>();
  const registered = new Map<ClusterName, string>();
  let firstCa: string;
  let newCa: string;
  let rotation: Trust;
  let rolloutId: string;

  const api = () => graphqlClient(hubs[0]!.graphqlUrl, hubs[0]!.adminToken);
  const agentOf = (cluster: ClusterName) => agents.get(cluster)!;
  const storedIdentity = (cluster: ClusterName) => JSON.parse(readFileSync(join(agentOf(cluster).process.stateDir, IDENTITY_FILE), 'utf8')) as StoredIdentity;
  const logged = (cluster: ClusterName, msg: string) => agentOf(cluster).logs.filter((line) => line.msg === msg);
  const connected = async () => new Set((await api().must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters.filter((c) => c.connected).map((c) => c.name));
  const rollout = async () => (await api().must<{ rollout: { phase: string; reason: string | null } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id: rolloutId })).rollout;
  const tails = () => CLUSTERS.map((cluster) => agentOf(cluster).process.tail(15)).join('\n');
  const launch = (cluster: ClusterName, stateDir?: string) => {
    // Installed with the first CA only, as `helm install` was before the rotation.
    const process = startAgent({ hubAddress: balancer?.address ?? hubs[0]!.grpcAddress, hubCa: firstCa, cluster, bootstrapToken: registered.get(cluster), stateDir, env: { FLOTILLA_LOG_LEVEL: 'debug' } });
    agents.set(cluster, { process, logs: recordJsonLines(process) });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = (replicaId: string) => ({ FLOTILLA_REPLICA_ID: replicaId });
    hubs.push(await startHub({ databaseUrl: db.url, env: env('hub-a') }));
    if (replicas > 1) {
      hubs.push(...(await Promise.all(['hub-b', 'hub-c'].slice(0, replicas - 1).map((id) => startHub({ databaseUrl: db.url, env: env(id) })))));
      balancer = await TcpBalancer.start(hubs.map((hub) => hub.grpcAddress));
    }
    firstCa = hubs[0]!.caBundle;
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((agent) => agent.process.stop()));
    await balancer?.close();
    await Promise.all(hubs.map((hub) => hub.stop()));
    await db?.drop();
  });

  it('two agents installed with the first CA enroll, and a rollout starts', async () => {
    for (const cluster of CLUSTERS) {
      const { registerCluster } = await api().must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster, labels: { region: 'eu' } },
      );
      registered.set(cluster, registerCluster.bootstrapToken);
      launch(cluster);
    }
    await eventually(async () => CLUSTERS.every((cluster) => logged(cluster, ENROLLED).length === 1) && (await connected()).size === CLUSTERS.length, {
      what: `both agents enrolled and connected\n${tails()}`,
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

    await eventually(() => CLUSTERS.every((cluster) => logged(cluster, RENEWED).length === 1), { what: `both agents renewed\n${tails()}`, timeoutMs: 15_000 });
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
    await eventually(async () => (await connected()).size === CLUSTERS.length, { what: `both agents connected with their new certificates\n${tails()}`, timeoutMs: 15_000 });
  });

  it('during the overlap every replica serves a certificate from the first CA', async () => {
    for (const hub of hubs) expect(await tlsHandshake(hub.grpcAddress, firstCa)).toEqual({ verified: true, issuer: new X509Certificate(firstCa).subject });
  });

  it('when the overlap ends, every replica serves a certificate from the new CA without a restart', async () => {
    const endsAt = Date.parse(rotation.rotationEndsAt!);
    for (const hub of hubs) {
      await eventually(async () => (await tlsHandshake(hub.grpcAddress, newCa)).verified, { what: `${hub.grpcAddress} serves a certificate from the new CA`, timeoutMs: endsAt - Date.now() + 10_000 });
      expect((await tlsHandshake(hub.grpcAddress, firstCa)).verified).toBe(false);
    }
    expect((await api().must<{ agentLinkTrust: Trust }>(`{ agentLinkTrust { authorities { role } } }`)).agentLinkTrust.authorities.map((a) => a.role)).toEqual(['SIGNING']);
  });

  it('the rollout succeeds and each agent applied its App once', async () => {
    const done = await eventually(
      async () => {
        const view = await rollout();
        if (view.phase === 'FAILED' || view.phase === 'PAUSED') throw new Error(`rollout ended ${view.phase}: ${view.reason}`);
        return view.phase === 'SUCCEEDED' ? view : undefined;
      },
      { what: `rollout SUCCEEDED\n${tails()}`, timeoutMs: 90_000 },
    );
    expect(done.phase).toBe('SUCCEEDED');
    const apps = (await api().must<{ appSet: { apps: { name: string; cluster: string; generation: string | null }[] } }>(`{ appSet(name: "web") { apps { name cluster generation } } }`)).appSet.apps;
    expect(apps.map((app) => app.cluster).sort()).toEqual([...CLUSTERS]);
    for (const app of apps) {
      const applies = agentOf(app.cluster as ClusterName).logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('driver apply ') && line['app'] === app.name);
      expect(applies.map((line) => [line.msg, line['generation']]), app.cluster).toEqual([['driver apply done', app.generation]]);
    }
  });

  it('agents restarted after the rotation reach the hub with the CA they were installed with and the bundle they kept', async () => {
    for (const cluster of CLUSTERS) {
      const { stateDir } = agentOf(cluster).process;
      await agentOf(cluster).process.stop();
      launch(cluster, stateDir);
    }
    await eventually(async () => (await connected()).size === CLUSTERS.length && CLUSTERS.every((cluster) => agentOf(cluster).logs.some((line) => line.msg === 'agent connected')), {
      what: `both restarted agents connected\n${tails()}`,
      timeoutMs: 30_000,
    });
  });
});
