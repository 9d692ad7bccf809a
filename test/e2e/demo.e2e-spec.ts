import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../harness/auth.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { ADMIN_TOKEN_FILE, startHub, type HubProcess } from '../harness/processes.js';

interface ClusterView {
  name: string;
  connected: boolean;
  apps: { name: string; revision: string | null; health: string; upToDate: boolean }[];
}

describe('the demo (npm start)', () => {
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.stop('SIGTERM', 15_000);
  });

  it('serves GraphQL and shows three demo clusters connected with their Apps HEALTHY at the released revision within a minute', async () => {
    const started = Date.now();
    // As after `npm start` with no FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: the hub makes the admin token, logs it
    // and leaves it in <data dir>/admin-token for its owner only; startHub reads it from there.
    hub = await startHub({ args: ['--demo'], env: { FLOTILLA_HEARTBEAT_SECONDS: '10' }, presetAdminToken: false });
    const { adminToken } = hub;
    expect(adminToken).not.toBe(TEST_ADMIN_TOKEN);
    expect(statSync(join(hub.dataDir, ADMIN_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(hub.output.some((line) => line.includes(adminToken)), 'the generated token in the hub log').toBe(true);
    const api = graphqlClient(hub.graphqlUrl, adminToken);
    let last: unknown;
    const clusters = await eventually(
      async () => {
        const { clusters } = await api.must<{ clusters: ClusterView[] }>(`{ clusters { name connected apps { name revision health upToDate } } }`);
        last = clusters;
        const ready = clusters.length === 3 && clusters.every((c) => c.connected && c.apps.length === 1 && c.apps[0]!.health === 'HEALTHY' && c.apps[0]!.upToDate);
        return ready ? clusters : undefined;
      },
      { timeoutMs: 60_000, what: 'three demo clusters HEALTHY' },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nclusters: ${JSON.stringify(last)}\n${hub?.tail(30)}`);
    });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(clusters.map((c) => c.name).sort()).toEqual(['demo-ap-south', 'demo-eu-west', 'demo-us-east']);
    expect(clusters.every((c) => c.apps[0]!.name === 'guestbook')).toBe(true);
  });
});
