import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/clock.js';
import { KubeApiError, KubeClient } from '../../../src/driver/kube/kube-client.js';
import { loadKubeConnection, type KubeConnection } from '../../../src/driver/kube/kube-config.js';
import { KubeApiTestServer } from '../../kube-api-server/index.js';

/**
 * Where the integration suite runs: always the in-process Kubernetes API test server, and a real
 * cluster too when `KUBECONFIG` is set. Every run works in fresh namespaces (and uniquely named
 * cluster-scoped objects) that it deletes afterwards.
 */
export interface KubeTarget {
  readonly name: string;
  /** The in-process server (fault injection, request log); undefined on a real cluster. */
  readonly server: KubeApiTestServer | undefined;
  readonly kubeconfigPath: string;
  /** Short random suffix of this run's names. */
  readonly suffix: string;
  /** A client for the test's own reads and writes (not the driver's). */
  readonly client: KubeClient;
  /** A fresh namespace name of this run (not created). */
  namespace(label: string): string;
  /** Registers a cluster-scoped object (or a namespace) to delete when the run ends. */
  cleanupLater(path: string): void;
  close(): Promise<void>;
}

/** The name of the real-cluster describe when `KUBECONFIG` is unset (so the run says why it is skipped). */
export const REAL_CLUSTER_SKIPPED = 'a real cluster (skipped: KUBECONFIG is not set)';

export async function startTestServerTarget(options: { bookmarkIntervalMs?: number } = {}): Promise<KubeTarget> {
  const server = await KubeApiTestServer.start({ simulatorTickMs: 50, crdEstablishDelayMs: 150, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 200 });
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-kube-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfigPath);
  return makeTarget('the Kubernetes API test server', kubeconfigPath, server, async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
}

export async function startRealClusterTarget(kubeconfigPath: string): Promise<KubeTarget> {
  return makeTarget(`the cluster of ${kubeconfigPath}`, kubeconfigPath, undefined, async () => undefined);
}

async function makeTarget(name: string, kubeconfigPath: string, server: KubeApiTestServer | undefined, stop: () => Promise<void>): Promise<KubeTarget> {
  const loaded = loadKubeConnection(kubeconfigPath);
  if (!loaded.ok) throw new Error(loaded.message);
  const connection: KubeConnection = loaded.connection;
  const client = new KubeClient({ endpoint: connection.endpoint, clock: systemClock, rateLimit: { qps: 500, burst: 500 } });
  const suffix = randomBytes(3).toString('hex');
  const cleanup: string[] = [];
  return {
    name,
    server,
    kubeconfigPath,
    suffix,
    client,
    namespace: (label) => `flt-${label}-${suffix}`,
    cleanupLater: (path) => cleanup.push(path),
    async close() {
      // Namespaces and CRDs last registered first: custom resources go before their definitions.
      for (const path of cleanup.reverse()) {
        await client.request('DELETE', path).catch((error: unknown) => {
          if (!(error instanceof KubeApiError && error.status === 404)) throw error;
        });
      }
      client.close();
      connection.close();
      await stop();
    },
  };
}
