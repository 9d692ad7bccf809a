import { Health, SyncStatus, type DesiredApp } from '@flotilla/proto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { ReportsService } from '../src/reports/reports.service';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { FakeAgent } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const APP_SET = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { cluster: "{{ cluster.name }}" }
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

/**
 * A report that arrives after a newer one of the same generation: NATS redelivers a report whose
 * consumer (a killed hub replica) pulled it but never acked it, after the ack wait, by which time the
 * agent has long said HEALTHY. The replicas e2e test saw edge-1 PROGRESSING after its rollout had
 * SUCCEEDED this way. Real hub, real PostgreSQL; the reports go through the hub's ReportsService.
 */
describe('reports that arrive out of order', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let pg: Client;
  let agent: FakeAgent;
  let release: DesiredApp;

  const status = async () =>
    (await pg.query<{ health: string; message: string }>(`SELECT s.health, s.message FROM app_statuses s JOIN clusters c ON c.id = s.cluster_id WHERE c.name = 'edge-1' AND s.app_name = 'web'`)).rows[0];
  const clusterId = async () => (await pg.query<{ id: string }>(`SELECT id FROM clusters WHERE name = 'edge-1'`)).rows[0]!.id;
  const report = async (health: Health, message: string, observedAtUnixMs: bigint) =>
    hub.app.get(ReportsService).recordReport(await clusterId(), {
      $typeName: 'flotilla.agent.v1.Report',
      appName: 'web',
      revision: release.revision,
      generation: release.generation,
      health,
      syncStatus: SyncStatus.SYNCED,
      message,
      resources: [],
      resourcesTruncated: false,
      observedAtUnixMs,
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(
      loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '200', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
    );
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const registered = await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation { registerCluster(input: { name: "edge-1", labels: { region: "eu" } }) { bootstrapToken } }`);
    expect(registered.errors).toBeUndefined();
    agent = new FakeAgent(hub, 'edge-1', registered.data!.registerCluster.bootstrapToken);
    agent.connect();
    await eventually(async () => agent.welcomed(), { what: 'the Welcome of edge-1' });
    const applied = await gql<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: APP_SET });
    expect(applied.data?.applyAppSet.issues).toEqual([]);
    await gql(`mutation { startRollout(appSet: "web") { id } }`);
    release = await eventually(async () => agent.desired().find((d) => d.appName === 'web'), { what: 'the release of web to edge-1' });
  });

  afterAll(async () => {
    agent?.close();
    await hub?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('keeps HEALTHY when a PROGRESSING report of the same generation, made before it, arrives after it', async () => {
    await report(Health.PROGRESSING, 'applied', 1_000_000n);
    await report(Health.HEALTHY, 'ready', 3_000_000n);
    // The redelivered report: made at 2 000 000, between the two, delivered last.
    await report(Health.PROGRESSING, 'redelivered', 2_000_000n);
    expect(await status()).toEqual({ health: 'HEALTHY', message: 'ready' });
  });

  it('takes a later judgement of the same generation, HEALTHY to DEGRADED and back', async () => {
    await report(Health.DEGRADED, 'crash loop', 4_000_000n);
    expect(await status()).toEqual({ health: 'DEGRADED', message: 'crash loop' });
    await report(Health.HEALTHY, 'recovered', 5_000_000n);
    expect(await status()).toEqual({ health: 'HEALTHY', message: 'recovered' });
  });

  it('takes a report made at the same instant as the stored one (a duplicate is a no-op)', async () => {
    await report(Health.HEALTHY, 'recovered again', 5_000_000n);
    expect(await status()).toEqual({ health: 'HEALTHY', message: 'recovered again' });
  });
});
