import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

/**
 * The agent link as an operator checks it from outside: `openssl s_client` against the hub's gRPC
 * port with the CA the API hands out, and real agent processes that trust that CA, or another one.
 */

/** A CA of someone else's (openssl), written to `<base>.crt`; returns its PEM path. */
function makeOtherCa(base: string): string {
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '1', '-subj', '/CN=someone else', '-addext', 'basicConstraints=critical,CA:TRUE'],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  return `${base}.crt`;
}

/** `openssl s_client` against 127.0.0.1:port trusting `caFile`; its whole output (stdin closed at once). */
function sClient(port: number, caFile: string): string {
  const run = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-verify_return_error'], { input: '', encoding: 'utf8', timeout: 20_000 });
  return `${run.stdout}\n${run.stderr}`;
}

describe('the gRPC agent link over TLS, seen from outside', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let dir: string;
  const agents: ManagedProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-e2e-tls-'));
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_GRPC_TLS_SANS: 'hub.e2e.test' } });
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('openssl s_client with the CA from agentLinkCA verifies the hub certificate (return code 0)', async () => {
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, hub.caBundle);

    const output = sClient(Number(hub.grpcAddress.split(':')[1]), caFile);

    expect(output).toMatch(/subject=CN\s*=\s*Flotilla hub agent link/);
    expect(output).toMatch(/issuer=CN\s*=\s*Flotilla agent-link CA/);
    expect(output).toContain('Verify return code: 0 (ok)');
  });

  it('openssl s_client with another CA fails verification', () => {
    const output = sClient(Number(hub.grpcAddress.split(':')[1]), makeOtherCa(join(dir, 'other')));

    expect(output).not.toContain('Verify return code: 0 (ok)');
    expect(output).toMatch(/verify error|Verify return code: (19|20|21)/);
  });

  it('an agent process trusting the CA connects; one trusting another CA never reaches the hub and its token stays usable', async () => {
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const register = async (name: string) =>
      (await api.must<{ registerCluster: { bootstrapToken: string; caBundle: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken caBundle } }`, { n: name })).registerCluster;
    const connected = async (name: string) => (await api.must<{ cluster: { connected: boolean } }>(`query($n: String!) { cluster(name: $n) { connected } }`, { n: name })).cluster.connected;

    const good = await register('tls-good');
    expect(good.caBundle).toBe(hub.caBundle);
    const trusting = startAgent({ hubAddress: hub.grpcAddress, hubCa: good.caBundle, cluster: 'tls-good', bootstrapToken: good.bootstrapToken });
    agents.push(trusting);
    await eventually(() => connected('tls-good'), { what: `tls-good connected\n${trusting.tail(10)}` });

    const bad = await register('tls-bad');
    const distrusting = startAgent({ hubAddress: hub.grpcAddress, hubCa: readFileSync(makeOtherCa(join(dir, 'impostor')), 'utf8'), cluster: 'tls-bad', bootstrapToken: bad.bootstrapToken });
    agents.push(distrusting);
    await eventually(() => distrusting.output.some((line) => line.includes('hub link down')), { what: `a failed TLS handshake\n${distrusting.tail(10)}` });
    expect(await connected('tls-bad')).toBe(false);
    await distrusting.stop();

    // Nothing reached the hub: the same token still enrolls the agent once it trusts the right CA.
    const retried = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: 'tls-bad', bootstrapToken: bad.bootstrapToken });
    agents.push(retried);
    await eventually(() => connected('tls-bad'), { what: `tls-bad connected with its untouched token\n${retried.tail(10)}` });
  });

  it('an agent process enrolls a client certificate for its cluster, keeps no bearer credential, and reconnects with the certificate after a restart', async () => {
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const token = (await api.must<{ registerCluster: { bootstrapToken: string } }>(`mutation { registerCluster(input: { name: "tls-cert" }) { bootstrapToken } }`)).registerCluster.bootstrapToken;
    const connected = async () => (await api.must<{ cluster: { connected: boolean } }>(`query { cluster(name: "tls-cert") { connected } }`)).cluster.connected;
    const first = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: 'tls-cert', bootstrapToken: token });
    agents.push(first);
    await eventually(() => connected(), { what: `tls-cert connected\n${first.tail(10)}` });
    const identity = JSON.parse(readFileSync(join(first.stateDir, 'client-identity.json'), 'utf8')) as { certificatePem?: string };
    expect(new X509Certificate(identity.certificatePem!).subject).toBe('CN=tls-cert');
    expect(existsSync(join(first.stateDir, 'credential'))).toBe(false);
    await first.stop();
    await eventually(async () => !(await connected()), { what: 'tls-cert disconnected' });

    // The token is spent: only the stored certificate can bring the agent back.
    const again = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: 'tls-cert', stateDir: first.stateDir });
    agents.push(again);
    await eventually(() => connected(), { what: `tls-cert reconnected with its certificate\n${again.tail(10)}` });
  });
});
