import { Health, SyncStatus } from '@flotilla/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubLink } from '../../agent/src/hub-link/hub-link.js';
import { createLogger } from '../../agent/src/log.js';
import { contractHubLink, type ContractCredential } from './support/contract-link.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { natsHubEnv, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { smallAppSet } from './support/app-sets.js';
import { TestAgent, type ReportContent } from './support/test-agent.js';

// The documented NATS server has users per cluster; edge-1 is one of them.
const CLUSTER = 'edge-1';

interface DriftedField {
  path: string;
  expected: string | null;
  live: string | null;
  redacted: boolean;
  valuesKnown: boolean;
}
interface ResourceView {
  kind: string;
  name: string;
  drifted: boolean;
  driftedFields: string[];
  drift: DriftedField[];
}

/**
 * ResourceStatus.drifted_values across the link, once per transport: the agent's real hub link encodes
 * a report with drifted fields and their values, the real hub stores it, the API shows it.
 */
describe.each(['grpc', 'nats'] as const)('drifted field values across the agent link over %s', (transport) => {
  let db: TestDatabase;
  let nats: NatsServerProcess;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  const credential: ContractCredential = { bootstrapToken: '', issued: undefined };
  const links: HubLink[] = [];

  const resources = async (app: string) =>
    (
      await api.must<{ cluster: { apps: { name: string; resources: ResourceView[] }[] } }>(
        `{ cluster(name: "${CLUSTER}") { apps { name resources { kind name drifted driftedFields drift { path expected live redacted valuesKnown } } } } }`,
      )
    ).cluster.apps.find((a) => a.name === app)?.resources ?? [];

  function connect(agent: TestAgent): HubLink {
    const link = contractHubLink({
      transport,
      endpoints: { grpcAddress: hub.grpcAddress, caPem: hub.caBundle, natsAddress: `127.0.0.1:${nats.port}` },
      cluster: CLUSTER,
      credential,
      handler: agent,
      log: createLogger({ level: 'error', write: () => undefined }),
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
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((link) => link.stop()));
  });

  afterAll(async () => {
    await hub?.stop();
    await nats?.dispose();
    await db?.drop();
  });

  it('carries the values of drifted fields, with secret ones redacted, from the agent to the API', async () => {
    const registered = await api.must<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($n: String!) { registerCluster(input: { name: $n, labels: { tier: "contract" } }) { bootstrapToken } }`,
      { n: CLUSTER },
    );
    credential.bootstrapToken = registered.registerCluster.bootstrapToken;
    const agent = new TestAgent();
    const link = connect(agent);
    await eventually(() => link.isConnected(), { what: 'the link welcomed' });

    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code } } }`, { y: smallAppSet('drifty', 'v1') });
    expect(applied.applyAppSet.issues).toEqual([]);
    await api.must(`mutation { startRollout(appSet: "drifty") { id } }`);
    await eventually(() => agent.desiredApps('drifty').length > 0, { what: 'the DesiredApp delivered' });

    const judged = agent.report('drifty', Health.HEALTHY);
    const drifted: ReportContent = {
      ...judged,
      syncStatus: SyncStatus.OUT_OF_SYNC,
      observedAtUnixMs: judged.observedAtUnixMs + 1n,
      resources: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: 'contract',
          name: 'drifty',
          health: Health.HEALTHY,
          message: '',
          drifted: true,
          driftedFields: ['data.extra', 'data.value'],
          driftedValues: [
            { path: 'data.extra', expected: '"1"', redacted: false },
            { path: 'data.value', expected: '"v1"', live: '"edited"', redacted: false },
          ],
        },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: 'contract',
          name: 'creds',
          health: Health.HEALTHY,
          message: '',
          drifted: true,
          driftedFields: ['data.password'],
          driftedValues: [{ path: 'data.password', redacted: true }],
        },
      ],
    };
    agent.resend(drifted);

    const shown = await eventually(async () => {
      const found = await resources('drifty');
      return found.length === 2 ? found : undefined;
    }, { what: 'the drifted resources stored' });
    const byKind = new Map(shown.map((r) => [r.kind, r]));
    expect(byKind.get('ConfigMap')).toEqual({
      kind: 'ConfigMap',
      name: 'drifty',
      drifted: true,
      driftedFields: ['data.extra', 'data.value'],
      drift: [
        { path: 'data.extra', expected: '"1"', live: null, redacted: false, valuesKnown: true },
        { path: 'data.value', expected: '"v1"', live: '"edited"', redacted: false, valuesKnown: true },
      ],
    });
    expect(byKind.get('Secret')?.drift).toEqual([{ path: 'data.password', expected: null, live: null, redacted: true, valuesKnown: true }]);
  });
});
