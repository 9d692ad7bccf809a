import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DesiredAppSchema, Health, RefusalSchema, RemoveAppSchema, SyncStatus, create, type Report } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../src/agent.js';
import { DesiredStateCache } from '../src/cache/desired-state-cache.js';
import { systemClock } from '../src/clock.js';
import type { AgentConfig } from '../src/core/config.js';
import { decideDesiredApp } from '../src/core/desired-state.js';
import { silentLogger } from '../src/log.js';
import { SimDriver } from '../src/sim/sim-driver.js';
import { useAgentLab } from './support/agent-lab.js';
import { CountingDriver } from './support/counting-driver.js';
import { eventually } from './support/eventually.js';
import { FakeHub, defaultPki, type FakeHubOptions } from './support/fake-hub.js';
import { makeTestPki } from './support/test-pki.js';
import { manifestsFor } from './support/manifests.js';

const BOOTSTRAP_TOKEN = 'bt-integration-secret';
const v1 = manifestsFor('web', 'v1');
const v2 = manifestsFor('web', 'v2');

function desiredApp(generation: bigint, release = v1, overrides: { revision?: string; appName?: string } = {}) {
  return create(DesiredAppSchema, {
    appName: overrides.appName ?? 'web',
    appSet: 'web-set',
    revision: overrides.revision ?? release.revision,
    generation,
    namespace: 'shop',
    manifestsJson: release.manifestsJson,
  });
}

const describeReport = (report: Report): string =>
  `${report.revision === v1.revision ? 'v1' : report.revision === v2.revision ? 'v2' : '?'}#${report.generation} ${Health[report.health]}/${SyncStatus[report.syncStatus]}`;

describe('gRPC hub link against a hub over real gRPC', () => {
  // Whatever happened, no secret may have reached the log.
  const lab = useAgentLab('flotilla-agent-int-', /bt-integration-secret|cred-from-hub/);
  const startHub = (options: FakeHubOptions = {}): Promise<FakeHub> => lab.startHub(options);

  function configFor(address: string, env: Record<string, string | undefined> = { FLOTILLA_HUB_CA: defaultPki().caPem }): AgentConfig {
    return lab.config({ ...env, FLOTILLA_HUB_ADDRESS: address, FLOTILLA_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN, FLOTILLA_SIM_HEALTHY_AFTER_MS: '100', FLOTILLA_RECONNECT_MAX_MS: '300' });
  }

  async function runAgent(address: string, env?: Record<string, string | undefined>): Promise<{ agent: RunningAgent; driver: CountingDriver }> {
    const driver = new CountingDriver(new SimDriver({ healthyAfterMs: 100, failApps: [], clock: systemClock }));
    const agent = await lab.startAgent(configFor(address, env), { driver, agentVersion: '9.9.9-test', link: { reconnectBaseMs: 50, welcomeTimeoutMs: 2000 } });
    return { agent, driver };
  }

  it('sends a Hello with the cached inventory (without tombstones) and the bootstrap token', async () => {
    const cache = await DesiredStateCache.open({ stateDir: lab.stateDir, log: silentLogger, clock: systemClock });
    const accepted = decideDesiredApp(undefined, desiredApp(3n));
    if (accepted.kind !== 'accept') throw new Error('fixture must be accepted');
    cache.set(accepted.entry);
    cache.set({ kind: 'tombstone', appName: 'old', generation: 9n, preserveResources: false, removedAtUnixMs: 1 });
    await cache.flush();
    const hub = await startHub();

    await runAgent(hub.address);

    const hello = await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
    expect(hub.last.token).toBe(BOOTSTRAP_TOKEN);
    expect(hello).toMatchObject({ protocolVersion: 1, clusterName: 'edge-1', agentVersion: '9.9.9-test' });
    expect(hello.inventory?.apps.map(({ appName, revision, generation }) => ({ appName, revision, generation }))).toEqual([
      { appName: 'web', revision: v1.revision, generation: 3n },
    ]);
  });

  it('stores the credential from Welcome with mode 0600 and presents it on the next connect', async () => {
    const hub = await startHub({ welcome: (_connection, index) => (index === 0 ? { agentCredential: 'cred-from-hub' } : {}) });
    const { agent } = await runAgent(hub.address);

    await eventually(async () => expect(await readFile(join(lab.stateDir, 'credential'), 'utf8')).toBe('cred-from-hub\n'));
    expect((await stat(join(lab.stateDir, 'credential'))).mode & 0o777).toBe(0o600);
    await eventually(() => expect(agent.link.isConnected()).toBe(true));

    hub.last.end();
    await eventually(() => expect(hub.connections).toHaveLength(2));
    expect(hub.connections[1]?.token).toBe('cred-from-hub');
    await eventually(() => expect(lab.logLines.some((line) => line.includes('"agent connected"') && line.includes('edge-1'))).toBe(true));
  });

  it('acks a DesiredApp, applies it, and reports PROGRESSING then HEALTHY naming the revision', async () => {
    const hub = await startHub();
    const { driver } = await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));

    hub.last.send({ case: 'desiredApp', value: desiredApp(1n) });

    await eventually(() => expect(hub.last.acks).toMatchObject([{ appName: 'web', revision: v1.revision, generation: 1n, accepted: true, error: '' }]));
    await eventually(() => expect(hub.last.reports.map(describeReport)).toContain('v1#1 HEALTHY/SYNCED'));
    expect(hub.last.reports.map(describeReport)).toEqual(['v1#1 PROGRESSING/APPLYING', 'v1#1 PROGRESSING/SYNCED', 'v1#1 HEALTHY/SYNCED']);
    expect(hub.last.reports.at(-1)?.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual(['ConfigMap/shop/web-config', 'Deployment/shop/web']);
    expect(driver.applied).toEqual(['web#1']);
  });

  it('ignores a stale generation and re-acks a duplicate without applying again', async () => {
    const hub = await startHub();
    const { driver } = await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
    hub.last.send({ case: 'desiredApp', value: desiredApp(2n) });
    await eventually(() => expect(hub.last.reports.map(describeReport)).toContain('v1#2 HEALTHY/SYNCED'));

    hub.last.send({ case: 'desiredApp', value: desiredApp(1n, v2) });
    hub.last.send({ case: 'desiredApp', value: desiredApp(2n) });

    // Messages are handled in order, so the duplicate's ack proves the stale one was handled first.
    await eventually(() => expect(hub.last.acks).toHaveLength(2));
    expect(hub.last.acks.map((ack) => `${ack.generation}:${ack.accepted}`)).toEqual(['2:true', '2:true']);
    expect(driver.applied).toEqual(['web#2']);
  });

  it('refuses a DesiredApp whose revision does not match its manifests', async () => {
    const hub = await startHub();
    const { agent } = await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));

    hub.last.send({ case: 'desiredApp', value: desiredApp(1n, v1, { revision: v2.revision }) });

    const [ack] = await eventually(() => (hub.last.acks.length > 0 ? hub.last.acks : expect.fail('no ack yet')));
    expect(ack).toMatchObject({ appName: 'web', revision: v2.revision, generation: 1n, accepted: false });
    expect(ack?.error).toContain('revision mismatch');
    expect(agent.driver.status('web')).toBeUndefined();
  });

  it('removes an App on RemoveApp and leaves it out of later inventories', async () => {
    const hub = await startHub({ welcome: () => ({ inventoryIntervalSeconds: 1, heartbeatIntervalSeconds: 1 }) });
    const { agent } = await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
    hub.last.send({ case: 'desiredApp', value: desiredApp(1n) });
    await eventually(() => expect(hub.last.acks).toHaveLength(1));

    hub.last.send({ case: 'removeApp', value: create(RemoveAppSchema, { appName: 'web', generation: 2n }) });

    await eventually(() => expect(hub.last.acks.map((ack) => `${ack.generation}:${ack.accepted}`)).toEqual(['1:true', '2:true']));
    await eventually(() => expect(agent.driver.status('web')).toBeUndefined());
    await eventually(() => expect(hub.last.heartbeats.length).toBeGreaterThan(0), { timeoutMs: 3000 });
    const inventory = await eventually(() => hub.last.inventories.at(-1) ?? expect.fail('no Inventory yet'), { timeoutMs: 3000 });
    expect(inventory.apps).toEqual([]);
  });

  it('reconnects after the hub restarts on the same port, re-sends Hello with its inventory and catches up on reports', async () => {
    const first = await startHub();
    await runAgent(first.address);
    await eventually(() => first.last.hello ?? expect.fail('no Hello yet'));
    first.last.send({ case: 'desiredApp', value: desiredApp(1n) });
    await eventually(() => expect(first.last.reports.map(describeReport)).toContain('v1#1 HEALTHY/SYNCED'));

    first.stop();
    const second = await startHub({ port: first.port });

    const hello = await eventually(() => second.connections[0]?.hello ?? expect.fail('no Hello yet'), { timeoutMs: 4000 });
    expect(hello.inventory?.apps.map((app) => `${app.appName}#${app.generation}`)).toEqual(['web#1']);
    await eventually(() => expect(second.last.reports.map(describeReport)).toEqual(['v1#1 HEALTHY/SYNCED']));
  });

  it('backs off and tries again after a Refusal, even one that is not retryable', async () => {
    const hub = await startHub({ welcome: () => 'none' });
    await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));

    hub.last.send({ case: 'refusal', value: create(RefusalSchema, { code: 'CREDENTIAL_REVOKED', message: 'revoked', retryable: false }) });

    await eventually(() => expect(hub.connections).toHaveLength(2), { timeoutMs: 3000 });
    expect(lab.logLines.some((line) => line.includes('hub refused the connection') && line.includes('CREDENTIAL_REVOKED'))).toBe(true);
  });

  it('re-applies its cached Apps without a hub after a restart on the same state dir', async () => {
    const hub = await startHub();
    const { agent } = await runAgent(hub.address);
    await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
    hub.last.send({ case: 'desiredApp', value: desiredApp(4n) });
    await eventually(() => expect(hub.last.acks).toHaveLength(1));
    await agent.stop();
    hub.stop();

    const { agent: restarted, driver } = await runAgent(hub.address);

    await eventually(() => expect(restarted.driver.status('web')).toMatchObject({ revision: v1.revision, generation: 4n, health: Health.HEALTHY }));
    expect(driver.applied).toEqual(['web#4']);
    expect(restarted.link.isConnected()).toBe(false);
  });

  it('ends the stream when stopped, leaving the hub with a closed call', async () => {
    const hub = await startHub();
    const { agent } = await runAgent(hub.address);
    await eventually(() => expect(agent.link.isConnected()).toBe(true));

    await agent.stop();

    expect(agent.link.isConnected()).toBe(false);
    await eventually(() => expect(hub.last.ended).toBe(true));
  });

  describe('verifying the hub', () => {
    it.each([
      { name: 'the CA as PEM text in FLOTILLA_HUB_CA', env: (): Record<string, string> => ({ FLOTILLA_HUB_CA: defaultPki().caPem }) },
      { name: 'the CA read from FLOTILLA_HUB_CA_FILE', env: (): Record<string, string> => ({ FLOTILLA_HUB_CA_FILE: join(lab.root, 'ca.crt') }) },
      { name: 'the CA with its line breaks escaped as \\n (as pasted into an env var)', env: (): Record<string, string> => ({ FLOTILLA_HUB_CA: defaultPki().caPem.replace(/\n/g, '\\n') }) },
    ])('connects over TLS to a hub signed by $name', async ({ env }) => {
      await writeFile(join(lab.root, 'ca.crt'), defaultPki().caPem);
      const hub = await startHub();

      await runAgent(hub.address, env());

      await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
      expect(hub.last.token).toBe(BOOTSTRAP_TOKEN);
    });

    it('never sends anything, the bootstrap token least of all, to a hub whose certificate its CA did not sign', async () => {
      const impostor = await startHub({ tls: makeTestPki() });

      await runAgent(impostor.address);

      await eventually(() => expect(lab.logLines.filter((line) => line.includes('hub link down')).length).toBeGreaterThanOrEqual(2), { timeoutMs: 5000 });
      expect(impostor.connections).toEqual([]);
    });

    it.each([
      { name: 'checks the name in FLOTILLA_HUB_TLS_SERVER_NAME when the address is not in the certificate', serverName: 'hub.flotilla.test', connects: true },
      { name: 'refuses a certificate that names neither the address nor FLOTILLA_HUB_TLS_SERVER_NAME', serverName: undefined, connects: false },
    ])('$name', async ({ serverName, connects }) => {
      const pki = makeTestPki(['DNS:hub.flotilla.test']);
      const hub = await startHub({ tls: pki });

      await runAgent(hub.address, { FLOTILLA_HUB_CA: pki.caPem, FLOTILLA_HUB_TLS_SERVER_NAME: serverName });

      if (connects) {
        await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
      } else {
        await eventually(() => expect(lab.logLines.filter((line) => line.includes('hub link down')).length).toBeGreaterThanOrEqual(2), { timeoutMs: 5000 });
        expect(hub.connections).toEqual([]);
      }
    });

    it('dials in plaintext only with FLOTILLA_HUB_INSECURE=true, and says so', async () => {
      const hub = await startHub({ tls: 'insecure' });

      await runAgent(hub.address, { FLOTILLA_HUB_INSECURE: 'true' });

      await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
      expect(lab.logLines.some((line) => line.includes('"warn"') && line.includes('FLOTILLA_HUB_INSECURE=true'))).toBe(true);
    });

    it('does not start when FLOTILLA_HUB_CA_FILE cannot be read', async () => {
      const config = configFor('127.0.0.1:9', { FLOTILLA_HUB_CA_FILE: join(lab.root, 'missing.crt') });

      const started = await startAgent(config, { log: silentLogger });

      expect(started).toEqual({ ok: false, issues: [{ code: 'unavailable', path: 'FLOTILLA_HUB_CA_FILE', message: expect.stringContaining('ENOENT') }] });
    });
  });
});
