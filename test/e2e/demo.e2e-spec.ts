import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { openBrowserPage } from '../harness/browser.js';
import { ADMIN_TOKEN_FILE, startHub, type HubProcess } from '../harness/processes.js';

interface ClusterView {
  name: string;
  connected: boolean;
  apps: { name: string; revision: string | null; health: string; upToDate: boolean }[];
}

/** The escape that starts an ANSI colour code. */
const ANSI = /\p{Cc}\[/u;

/** Every complete line a process writes to stdout and stderr, unbounded (the harness keeps the last 200). */
function recordLines(hub: HubProcess): string[] {
  const lines: string[] = [];
  for (const stream of [hub.child.stdout, hub.child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((line) => line !== ''));
    });
  }
  return lines;
}

/** Waits until the three demo clusters are connected with guestbook HEALTHY at its released revision. */
async function demoHealthy(hub: HubProcess, token: string): Promise<ClusterView[]> {
  const api = graphqlClient(hub.graphqlUrl, token);
  let last: unknown;
  return eventually(
    async () => {
      const { clusters } = await api.must<{ clusters: ClusterView[] }>(`{ clusters { name connected apps { name revision health upToDate } } }`);
      last = clusters;
      const ready = clusters.length === 3 && clusters.every((c) => c.connected && c.apps.length === 1 && c.apps[0]!.health === 'HEALTHY' && c.apps[0]!.upToDate);
      return ready ? clusters : undefined;
    },
    { timeoutMs: 60_000, what: 'three demo clusters HEALTHY' },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nclusters: ${JSON.stringify(last)}\n${hub.tail(30)}`);
  });
}

describe('the demo (npm start)', () => {
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.stop('SIGTERM', 15_000);
  });

  it('serves GraphQL and shows three demo clusters connected with their Apps HEALTHY at the released revision within a minute', async () => {
    const started = Date.now();
    // As after `npm start` with no FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: the hub makes the admin token and
    // leaves it in <data dir>/admin-token for its owner only; startHub reads it from there.
    // Nor FLOTILLA_CA_ENCRYPTION_KEY: the hub generates the key that seals its agent-link CA into the data
    // folder (0600), says where, and never logs it; its demo agents verify the hub with that CA.
    hub = await startHub({ args: ['--demo'], env: { FLOTILLA_HEARTBEAT_SECONDS: '10' }, presetAdminToken: false, presetCaEncryptionKey: false });
    const { adminToken } = hub;
    expect(adminToken).not.toBe(TEST_ADMIN_TOKEN);
    expect(statSync(join(hub.dataDir, ADMIN_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    // The output is a pipe, not a terminal: a JSON log, which names the token's file and never holds the token.
    expect(hub.output.some((line) => line.includes(adminToken)), 'the generated token in the hub log').toBe(false);
    await eventually(async () => hub!.output.some((line) => line.includes(join(hub!.dataDir, ADMIN_TOKEN_FILE))), { what: "the token file's name in the log" });
    const caKeyFile = join(hub.dataDir, 'ca-encryption-key');
    expect(statSync(caKeyFile).mode & 0o777).toBe(0o600);
    const caKey = readFileSync(caKeyFile, 'utf8').trim();
    expect(Buffer.from(caKey, 'base64')).toHaveLength(32);
    expect(hub.output.some((line) => line.includes('FLOTILLA_CA_ENCRYPTION_KEY is unset') && line.includes(caKeyFile)), 'where the generated CA key is').toBe(true);
    expect(hub.output.some((line) => line.includes(caKey)), 'the CA key in the hub log').toBe(false);
    const clusters = await demoHealthy(hub, adminToken);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(clusters.map((c) => c.name).sort()).toEqual(['demo-ap-south', 'demo-eu-west', 'demo-us-east']);
    expect(clusters.every((c) => c.apps[0]!.name === 'guestbook')).toBe(true);
    // The demo agents keep their state inside the data folder.
    for (const cluster of clusters) expect(statSync(join(hub.dataDir, 'demo-agents', cluster.name, 'client-identity.json')).isFile()).toBe(true);
  });

  it('shows the demo fleet on the dashboard to whoever signs in with the generated token', async () => {
    const browser = await openBrowserPage();
    try {
      const { page } = browser;
      await page.goto(new URL('/', hub!.graphqlUrl).href);
      await page.getByLabel('API token').fill(hub!.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await browser.shown(page.getByRole('heading', { name: 'Fleet', level: 1 }));
      for (const [region, cluster] of [['eu-west', 'demo-eu-west'], ['us-east', 'demo-us-east'], ['ap-south', 'demo-ap-south']]) {
        const group = page.getByRole('region', { name: `region=${region}` });
        const row = group.getByRole('row').filter({ has: page.getByRole('rowheader', { name: cluster, exact: true }) });
        await browser.shown(row.getByText('Connected'));
      }
      await browser.shot('demo-fleet');
    } finally {
      await browser.close();
    }
  });
});

describe('the demo writes a JSON log to a pipe, quietly and with a clean shutdown', () => {
  let db: TestDatabase | undefined;
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await db?.drop();
  });

  it('writes one JSON object per line without colour codes, answers GET / with the dashboard page and no error line, and stops on SIGTERM with exit code 0 and nothing logged as an error', async () => {
    db = await createTestDatabase();
    hub = await startHub({ args: ['--demo'], databaseUrl: db.url });
    const lines = recordLines(hub);
    await demoHealthy(hub, hub.adminToken);

    // The dashboard's page is public (its queries need a token); `npm run build` builds it before the tests.
    for (const authorization of [undefined, `Bearer ${hub.adminToken}`]) {
      const response = await fetch(hub.graphqlUrl.replace(/graphql$/, ''), { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
    const exit = new Promise<number | null>((resolve) => hub!.child.once('exit', (code) => resolve(code)));
    await hub.stop('SIGTERM', 15_000);
    expect(await exit).toBe(0);

    expect(lines.length).toBeGreaterThan(10);
    const parsed = lines.map((line) => {
      expect(line).not.toMatch(ANSI);
      try {
        return JSON.parse(line) as { level?: string; message?: string; msg?: string };
      } catch {
        throw new Error(`a line of the log is not JSON: ${line.slice(0, 300)}`);
      }
    });
    // Hub lines (Nest: level/message) and demo agents' lines (level/msg) alike.
    expect(parsed.filter((entry) => entry.level === 'error' || entry.level === 'fatal')).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/NotFoundException|Called end on pool/);
    expect(parsed.some((entry) => entry.message === 'SIGTERM: shutting down')).toBe(true);
  });
});

describe('the demo after one of its clusters was deregistered: its agent keeps a refused certificate', () => {
  let db: TestDatabase | undefined;
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.stop('SIGTERM', 15_000);
    await db?.drop();
  });

  it('brings the agent back on the next start: refused with its stored certificate, it enrolls with the new bootstrap token the demo gives it', async () => {
    // Given a demo whose agents enrolled, and one of its clusters deregistered (its agent is cut off)
    db = await createTestDatabase();
    hub = await startHub({ args: ['--demo'], databaseUrl: db.url });
    const dataDir = hub.dataDir;
    await demoHealthy(hub, hub.adminToken);
    const certificateOf = (name: string) => (JSON.parse(readFileSync(join(dataDir, 'demo-agents', name, 'client-identity.json'), 'utf8')) as { certificatePem: string }).certificatePem;
    const names = ['demo-ap-south', 'demo-eu-west', 'demo-us-east'];
    const before = new Map(names.map((name) => [name, certificateOf(name)]));
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    // (A cluster is not deregistered while a rollout targets it: the demo's is in its soak time.)
    const { appSet } = await api.must<{ appSet: { rollouts: { id: string; phase: string }[] } }>(`{ appSet(name: "guestbook") { rollouts { id phase } } }`);
    for (const rollout of appSet.rollouts.filter((r) => r.phase === 'PROGRESSING')) await api.must(`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id: rollout.id });
    const gone = await api.must<{ deregisterCluster: { deregistered: boolean } }>(`mutation { deregisterCluster(name: "demo-eu-west", force: true) { deregistered } }`);
    expect(gone.deregisterCluster.deregistered).toBe(true);
    await hub.stop('SIGTERM', 15_000);

    // When the demo starts again on the same database and data folder: it registers demo-eu-west anew
    hub = await startHub({ args: ['--demo'], databaseUrl: db.url, dataDir });
    const lines = recordLines(hub);

    // Then its agent, refused with the stored certificate, enrolls with the new token, and the demo runs
    await demoHealthy(hub, hub.adminToken);
    expect(certificateOf('demo-eu-west')).not.toBe(before.get('demo-eu-west'));
    expect(certificateOf('demo-us-east')).toBe(before.get('demo-us-east'));
    expect(certificateOf('demo-ap-south')).toBe(before.get('demo-ap-south'));
    expect(lines.some((line) => line.includes('enrolling with the bootstrap token'))).toBe(true);
  });
});
