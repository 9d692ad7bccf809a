import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectRequestSchema, PROTOCOL_VERSION, create, toBinary } from '@flotilla/proto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { stopChild } from './support/stop-child';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
const BUCKET = 'flotilla-desired';

const appSetYaml = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { cluster: "{{ cluster.name }}" }
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('deregisterCluster with the NATS agent link', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let nats: ChildProcess;
  let client: NatsConnection;
  let storeDir: string;
  let gql: ReturnType<typeof graphqlClient>;

  const keysOf = async (cluster: string): Promise<string[]> => {
    const kv = await new Kvm(jetstream(client)).open(BUCKET);
    const keys: string[] = [];
    for await (const key of await kv.keys(`${cluster}.>`)) keys.push(key);
    return keys.sort();
  };

  beforeAll(async () => {
    const port = await freePort();
    storeDir = mkdtempSync(join(tmpdir(), 'flotilla-nats-'));
    nats = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    client = await eventually(() => connect({ servers: `127.0.0.1:${port}` }).catch(() => undefined), { what: 'nats-server' });
    db = await createTestDatabase();
    hub = await startHub(
      loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '200', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_NATS_URL: `nats://127.0.0.1:${port}`, FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
    );
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    await hub?.stop();
    await client?.close();
    await stopChild(nats);
    await db?.drop();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it("purges the deregistered cluster's keys from the desired-state bucket and leaves the other clusters' keys", async () => {
    for (const name of ['edge-1', 'edge-2']) await gql(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name });
    expect((await gql<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code } } }`, { y: appSetYaml })).data!.applyAppSet.issues).toEqual([]);
    // The agents say Hello over NATS, so that the rollout sees them online and releases to them.
    for (const name of ['edge-1', 'edge-2']) {
      const hello = create(ConnectRequestSchema, { message: { case: 'hello', value: { protocolVersion: PROTOCOL_VERSION, clusterName: name, agentVersion: 'fake', inventory: { apps: [] } } } });
      await jetstream(client).publish(`reports.${name}`, toBinary(ConnectRequestSchema, hello));
    }
    await eventually(async () => (await keysOf('edge-1')).includes('edge-1._welcome') && (await keysOf('edge-2')).includes('edge-2._welcome'), { what: 'welcomes in KV' });
    const id = (await gql<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`)).data!.startRollout.id;
    await eventually(async () => (await keysOf('edge-1')).includes('edge-1.web') && (await keysOf('edge-2')).includes('edge-2.web'), { what: 'released keys in KV' });
    await gql(`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id });

    const res = await gql<{ deregisterCluster: { deregistered: boolean } }>(`mutation { deregisterCluster(name: "edge-1", force: true) { deregistered } }`);
    expect(res.data!.deregisterCluster.deregistered).toBe(true);
    expect(await keysOf('edge-1')).toEqual([]);
    expect(await keysOf('edge-2')).toEqual(['edge-2._welcome', 'edge-2.web']);
  });
});
