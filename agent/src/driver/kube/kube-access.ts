import { SecretStateStore } from '../../cache/secret-state-store.js';
import { FileStateStore, type StateStore } from '../../cache/state-store.js';
import type { Clock } from '../../clock.js';
import { AGENT_ENV, type AgentConfig, type ConfigIssue } from '../../core/config.js';
import { DEFAULT_RATE_LIMIT, KubeClient } from './kube-client.js';
import { loadKubeConnection } from './kube-config.js';

/** A connection to the cluster's API server, shared by the kube driver and the Secret store. */
export interface KubeAccess {
  readonly client: KubeClient;
  /** The agent's namespace: configured, else the kubeconfig context's (in a pod: its own), else `default`. */
  readonly namespace: string;
  /** Where the credentials came from, for the start-up log. */
  readonly source: string;
  close(): void;
}

/** True when the configuration needs the Kubernetes API (kube driver or Secret store). */
export function needsKubeAccess(config: AgentConfig): boolean {
  return config.driver.kind === 'kube' || config.cacheStore.kind === 'secret';
}

/**
 * Opens the API connection the configuration asks for. A configuration error (missing kubeconfig,
 * no credentials outside a pod) comes back as an issue on the variable that named the source.
 */
export function openKubeAccess(config: AgentConfig, clock: Clock): { ok: true; access: KubeAccess } | { ok: false; issue: ConfigIssue } {
  const loaded = loadKubeConnection(config.kube.kubeconfig);
  if (!loaded.ok) {
    return { ok: false, issue: { code: 'invalid', path: config.kube.kubeconfig !== undefined ? AGENT_ENV.kubeconfig : config.driver.kind === 'kube' ? AGENT_ENV.driver : AGENT_ENV.cacheStore, message: loaded.message } };
  }
  const client = new KubeClient({ endpoint: loaded.connection.endpoint, clock, rateLimit: DEFAULT_RATE_LIMIT });
  return {
    ok: true,
    access: {
      client,
      namespace: config.kube.agentNamespace ?? loaded.connection.contextNamespace ?? 'default',
      source: loaded.connection.source,
      close: () => {
        client.close();
        loaded.connection.close();
      },
    },
  };
}

/** The state store the configuration selects: files in the state directory, or Secrets. */
export function createStateStore(config: AgentConfig, access: KubeAccess | undefined, clock: Clock, random01: () => number): StateStore {
  if (config.cacheStore.kind === 'file' || access === undefined) return new FileStateStore(config.stateDir);
  return new SecretStateStore({ client: access.client, namespace: access.namespace, namePrefix: config.cacheStore.namePrefix, clock, random01 });
}
