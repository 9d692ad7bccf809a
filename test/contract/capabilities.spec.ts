import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DriverCapabilities } from '../../agent/src/driver/cluster-driver.js';
import type { HubLink } from '../../agent/src/hub-link/hub-link.js';
import { createLogger } from '../../agent/src/log.js';
import { contractHubLink, type ContractCredential } from './support/contract-link.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { natsHubEnv, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { TestAgent } from './support/test-agent.js';

const CLUSTER = 'edge-1';

interface CapabilitiesView {
  connected: boolean;
  kubernetesVersion: string | null;
  apiVersions: string[] | null;
  capabilitiesProblem: string | null;
}

/**
 * The capabilities part of Hello, once per transport: the agent's real hub-link classes send what the
 * agent discovered, and a real hub process shows it on the cluster; a later Hello of an upgraded
 * cluster replaces it, and a failed discovery keeps what was known and says why.
 */
describe.each(['grpc', 'nats'] as const)('cluster capabilities in Hello over %s', (transport) => {
  let db: TestDatabase;
  let nats: NatsServerProcess;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  const credential: ContractCredential = { bootstrapToken: '', issued: undefined };
  const links: HubLink[] = [];

  const cluster = async () =>
    (await api.must<{ cluster: CapabilitiesView }>(`{ cluster(name: "${CLUSTER}") { connected kubernetesVersion apiVersions capabilitiesProblem } }`)).cluster;

  function connect(capabilities: DriverCapabilities): HubLink {
    const link = contractHubLink({
      transport,
      endpoints: { grpcAddress: hub.grpcAddress, caPem: hub.caBundle, natsAddress: `127.0.0.1:${nats.port}` },
      cluster: CLUSTER,
      credential,
      handler: new TestAgent(),
      log: createLogger({ level: 'error', write: () => undefined }),
      capabilities: () => capabilities,
    });
    links.push(link);
    link.start();
    return link;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await startDocumentedNatsServer();
    hub = await startHub({ databaseUrl: db.url, env: natsHubEnv(nats) });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const registered = await api.must<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: CLUSTER });
    credential.bootstrapToken = registered.registerCluster.bootstrapToken;
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((link) => link.stop()));
  });

  afterAll(async () => {
    await hub?.stop();
    await nats?.dispose();
    await db?.drop();
  });

  it('shows what the agent discovered on the cluster, sorted', async () => {
    connect({ kubernetesVersion: 'v1.34.2', apiVersions: ['v1', 'apps/v1', 'apps/v1/Deployment', 'v1/ConfigMap'], discoveryError: '' });

    const shown = await eventually(async () => {
      const c = await cluster();
      return c.kubernetesVersion !== null && c;
    }, { what: 'the capabilities on the cluster' });
    expect(shown).toEqual({ connected: true, kubernetesVersion: 'v1.34.2', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1', 'v1/ConfigMap'], capabilitiesProblem: null });
  });

  it('replaces them at the next Hello of an upgraded cluster', async () => {
    connect({ kubernetesVersion: 'v1.35.0', apiVersions: ['v1', 'apps/v1', 'policy/v1/PodDisruptionBudget'], discoveryError: '' });

    const shown = await eventually(async () => {
      const c = await cluster();
      return c.kubernetesVersion === 'v1.35.0' && c;
    }, { what: 'the upgraded capabilities' });
    expect(shown.apiVersions).toEqual(['apps/v1', 'policy/v1/PodDisruptionBudget', 'v1']);
  });

  it('keeps what was known after a failed discovery, and says why', async () => {
    connect({ kubernetesVersion: '', apiVersions: [], discoveryError: 'GET /apis: 503 ServiceUnavailable' });

    const shown = await eventually(async () => {
      const c = await cluster();
      return c.capabilitiesProblem !== null && c;
    }, { what: 'the discovery problem' });
    expect(shown).toMatchObject({ kubernetesVersion: 'v1.35.0', capabilitiesProblem: "The agent's discovery failed: GET /apis: 503 ServiceUnavailable" });
  });
});
