import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesiredAppSchema, DriftPolicy, SyncMode, canonicalJson, create, revisionOf } from '@flotilla/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent.js';
import { SecretStateStore, StateTooLargeError } from '../../src/cache/secret-state-store.js';
import { systemClock } from '../../src/clock.js';
import { loadAgentConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../support/eventually.js';
import { FakeHub } from '../support/fake-hub.js';
import { configMap, createNamespace, readLive } from './support/harness.js';
import { describeForTargets } from './support/suite.js';

const secretNames = async (target: { client: { request: <T>(method: string, path: string, options?: object) => Promise<T> } }, namespace: string, prefix: string) => {
  const list = await target.client.request<{ items: { metadata: { name: string } }[] }>('GET', `/api/v1/namespaces/${namespace}/secrets`);
  return list.items.map((item) => item.metadata.name).filter((name) => name.startsWith(prefix)).sort();
};

describeForTargets('the Secret state store', (target, settings) => {
  let namespace: string;
  let root: string;

  beforeAll(async () => {
    namespace = target().namespace('state');
    await createNamespace(target(), namespace);
    root = await mkdtemp(join(tmpdir(), 'flotilla-secret-store-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const storeFor = (namePrefix: string, extra: { maxShardBytes?: number; maxShards?: number } = {}) =>
    new SecretStateStore({ client: target().client, namespace, namePrefix, clock: systemClock, random01: Math.random, ...extra });

  it('reads nothing before a write, then reads back what it wrote', async () => {
    const store = storeFor('rt');
    expect(await store.read('desired-state')).toBeUndefined();

    await store.write('desired-state', '{"version":1,"entries":[]}\n');

    expect(await storeFor('rt').read('desired-state')).toBe('{"version":1,"entries":[]}\n');
    expect(await secretNames(target(), namespace, 'rt-')).toEqual(['rt-desired-state']);
  });

  it('shards a document over several Secrets and deletes the old shards after a smaller write', async () => {
    const store = storeFor('shard', { maxShardBytes: 4096, maxShards: 8 });
    // Random text barely compresses, so ~12 KiB needs several 4 KiB shards.
    const large = randomBytes(9 * 1024).toString('base64');

    await store.write('desired-state', large);

    expect(await storeFor('shard', { maxShardBytes: 4096 }).read('desired-state')).toBe(large);
    expect((await secretNames(target(), namespace, 'shard-')).length).toBeGreaterThan(2);

    await store.write('desired-state', 'small');
    expect(await storeFor('shard').read('desired-state')).toBe('small');
    expect(await secretNames(target(), namespace, 'shard-')).toEqual(['shard-desired-state']);
  });

  it('refuses a document too large even compressed and sharded, clearly and without touching what is stored', async () => {
    const store = storeFor('big', { maxShardBytes: 1024, maxShards: 2 });
    await store.write('desired-state', 'kept');

    const write = store.write('desired-state', randomBytes(8 * 1024).toString('base64'));

    await expect(write).rejects.toBeInstanceOf(StateTooLargeError);
    await expect(write).rejects.toThrow(/over the Secret store's limit of 2048 gzipped bytes .* FLOTILLA_CACHE_STORE=file/);
    expect(await storeFor('big').read('desired-state')).toBe('kept');
  });

  it('lets the agent restart from the Secrets alone: credential and desired state, with the hub unreachable', async () => {
    const appNamespace = target().namespace('restart-app');
    await createNamespace(target(), appNamespace);
    const manifests = [configMap('from-cache', { v: '1' })];
    const manifestsJson = canonicalJson(manifests);
    const env = {
      FLOTILLA_CLUSTER_NAME: 'edge-1',
      FLOTILLA_DRIVER: 'kube',
      FLOTILLA_KUBECONFIG: target().kubeconfigPath,
      FLOTILLA_CACHE_STORE: 'secret',
      FLOTILLA_CACHE_SECRET_PREFIX: 'agent',
      FLOTILLA_AGENT_NAMESPACE: namespace,
      // Files would land here if the Secret store were not used; the test checks that none do.
      FLOTILLA_STATE_DIR: join(root, 'unused'),
    };
    const logLines: string[] = [];
    const log = createLogger({ level: 'debug', write: (line) => logLines.push(line) });

    const hub = await FakeHub.start({ welcome: () => ({ agentCredential: 'cred-in-secret' }) });
    let agent: RunningAgent | undefined;
    try {
      const first = loadAgentConfig({ ...env, FLOTILLA_HUB_ADDRESS: hub.address, FLOTILLA_HUB_CA: hub.caPem, FLOTILLA_BOOTSTRAP_TOKEN: 'bt-once' });
      if (!first.ok) throw new Error(JSON.stringify(first.issues));
      const started = await startAgent(first.config, { log, link: { reconnectBaseMs: 50 } });
      if (!started.ok) throw new Error(JSON.stringify(started.issues));
      agent = started.agent;
      await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'), { timeoutMs: 5_000 });
      hub.last.send({
        case: 'desiredApp',
        value: create(DesiredAppSchema, {
          appName: 'cached',
          appSet: 'cached-set',
          revision: revisionOf(manifests),
          generation: 1n,
          namespace: appNamespace,
          manifestsJson,
          syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT },
        }),
      });
      await eventually(async () => expect(await readLive(target(), `/api/v1/namespaces/${appNamespace}/configmaps/from-cache`)).toBeDefined(), {
        timeoutMs: settings.settleMs,
        intervalMs: 50,
      });
      await eventually(async () => expect(await secretNames(target(), namespace, 'agent-')).toEqual(['agent-client-identity', 'agent-credential', 'agent-desired-state', 'agent-kube-inventory']), {
        timeoutMs: 5_000,
      });
    } finally {
      await agent?.stop();
      hub.stop();
    }

    // Someone deletes the object while the agent is down; the hub stays unreachable.
    await target().client.request('DELETE', `/api/v1/namespaces/${appNamespace}/configmaps/from-cache`);
    const second = loadAgentConfig({ ...env, FLOTILLA_HUB_ADDRESS: '127.0.0.1:9', FLOTILLA_HUB_CA: hub.caPem });
    if (!second.ok) throw new Error(JSON.stringify(second.issues));
    const restarted = await startAgent(second.config, { log, link: { reconnectBaseMs: 50 } });
    if (!restarted.ok) throw new Error(`the credential should come from the Secret: ${JSON.stringify(restarted.issues)}`);
    try {
      await eventually(async () => expect(await readLive(target(), `/api/v1/namespaces/${appNamespace}/configmaps/from-cache`)).toBeDefined(), {
        timeoutMs: settings.settleMs,
        intervalMs: 50,
      });
      expect(restarted.agent.driver.status('cached')).toMatchObject({ revision: revisionOf(manifests) });
    } finally {
      await restarted.agent.stop();
    }
    expect(logLines.join('\n')).not.toMatch(/bt-once|cred-in-secret/);
    expect(await readdir(root)).toEqual([]);
  }, 60_000);
});
