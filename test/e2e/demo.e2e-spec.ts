import { readFileSync, statSync } from 'node:fs';
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
    // Nor FLOTILLA_CA_ENCRYPTION_KEY: the hub generates the key that seals its agent-link CA into the data
    // folder (0600), says where, and never logs it; its demo agents verify the hub with that CA.
    hub = await startHub({ args: ['--demo'], env: { FLOTILLA_HEARTBEAT_SECONDS: '10' }, presetAdminToken: false, presetCaEncryptionKey: false });
    const { adminToken } = hub;
    expect(adminToken).not.toBe(TEST_ADMIN_TOKEN);
    expect(statSync(join(hub.dataDir, ADMIN_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(hub.output.some((line) => line.includes(adminToken)), 'the generated token in the hub log').toBe(true);
    const caKeyFile = join(hub.dataDir, 'ca-encryption-key');
    expect(statSync(caKeyFile).mode & 0o777).toBe(0o600);
    const caKey = readFileSync(caKeyFile, 'utf8').trim();
    expect(Buffer.from(caKey, 'base64')).toHaveLength(32);
    expect(hub.output.some((line) => line.includes('FLOTILLA_CA_ENCRYPTION_KEY is unset') && line.includes(caKeyFile)), 'where the generated CA key is').toBe(true);
    expect(hub.output.some((line) => line.includes(caKey)), 'the CA key in the hub log').toBe(false);
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
