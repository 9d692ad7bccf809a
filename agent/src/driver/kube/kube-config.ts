import * as http from 'node:http';
import * as https from 'node:https';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeEndpoint } from './kube-client.js';
import { messageOf } from './kube-client.js';

/** Where the agent's Kubernetes credentials come from, and what they name. */
export interface KubeConnection {
  readonly endpoint: KubeEndpoint;
  /** The namespace of the current context (in a pod: the service account's namespace). */
  readonly contextNamespace: string | undefined;
  /** `kubeconfig <path>`, `in-cluster service account` or `~/.kube/config`, for the start-up log. */
  readonly source: string;
  /** Closes idle connections. */
  close(): void;
}

/** Result of {@link loadKubeConnection}. */
export type KubeConnectionResult = { readonly ok: true; readonly connection: KubeConnection } | { readonly ok: false; readonly message: string };

/**
 * Loads Kubernetes credentials with client-node's `KubeConfig`: from `kubeconfigPath` when given (a
 * `KUBECONFIG`-style list of files, merged in order), otherwise `loadFromDefault` (`~/.kube/config`,
 * then the in-cluster service account). Never throws: a missing file, a config without a current
 * cluster, no configuration at all (client-node then silently falls back to http://localhost:8080),
 * or plain http without `insecure-skip-tls-verify` come back as one clear message.
 */
export function loadKubeConnection(kubeconfigPath: string | undefined): KubeConnectionResult {
  const config = new KubeConfig();
  let source: string;
  try {
    if (kubeconfigPath !== undefined) {
      const files = kubeconfigPath.split(delimiter).filter((file) => file !== '');
      const [first, ...rest] = files;
      if (first === undefined) return { ok: false, message: 'the kubeconfig path is empty' };
      config.loadFromFile(first);
      for (const file of rest) {
        const next = new KubeConfig();
        next.loadFromFile(file);
        config.mergeConfig(next, true);
      }
      source = `kubeconfig ${files.join(delimiter)}`;
    } else {
      config.loadFromDefault();
      source = config.getCurrentContext() === 'inClusterContext' ? 'in-cluster service account' : 'default kubeconfig';
    }
  } catch (error) {
    return { ok: false, message: `cannot load the Kubernetes configuration${kubeconfigPath !== undefined ? ` from ${kubeconfigPath}` : ''}: ${messageOf(error)}` };
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) return { ok: false, message: `the Kubernetes configuration (${source}) has no current context with a cluster` };
  if (kubeconfigPath === undefined && cluster.name === 'cluster' && cluster.server === 'http://localhost:8080') {
    return {
      ok: false,
      message: 'no Kubernetes configuration found: set FLOTILLA_KUBECONFIG or KUBECONFIG, or run in a pod with a service account token',
    };
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    return { ok: false, message: `cluster ${JSON.stringify(cluster.name)} has an invalid server URL ${JSON.stringify(cluster.server)}` };
  }
  if (server.protocol === 'http:' && !cluster.skipTLSVerify) {
    return {
      ok: false,
      message: `cluster ${JSON.stringify(cluster.name)} uses plain http (${cluster.server}); client-node allows that only with insecure-skip-tls-verify: true`,
    };
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') {
    return { ok: false, message: `cluster ${JSON.stringify(cluster.name)} has a server URL that is not http(s): ${JSON.stringify(cluster.server)}` };
  }

  // One keep-alive agent for the process: client-node builds a fresh agent per call, which would make
  // every request a new TLS handshake. A proxy needs client-node's own agent.
  let agent: http.Agent | undefined;
  const endpoint: KubeEndpoint = {
    server: cluster.server.replace(/\/+$/, ''),
    async authorize() {
      const options: https.RequestOptions = {};
      await config.applyToHTTPSOptions(options);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(options.headers ?? {})) {
        if (typeof value === 'string' || typeof value === 'number') headers[key.toLowerCase()] = String(value);
        else if (Array.isArray(value)) headers[key.toLowerCase()] = value.join(', ');
      }
      if (typeof options.auth === 'string' && options.auth !== '') headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      if (cluster.proxyUrl !== undefined && cluster.proxyUrl !== '') return { headers, agent: options.agent instanceof http.Agent ? options.agent : undefined };
      agent ??=
        server.protocol === 'https:'
          ? new https.Agent({
              keepAlive: true,
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              pfx: options.pfx,
              passphrase: options.passphrase,
              servername: cluster.tlsServerName ?? options.servername ?? undefined,
              ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
            })
          : new http.Agent({ keepAlive: true });
      return { headers, agent };
    },
  };
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    ok: true,
    connection: {
      endpoint,
      contextNamespace: contextNamespace === undefined || contextNamespace === '' ? undefined : contextNamespace.trim(),
      source,
      close: () => agent?.destroy(),
    },
  };
}
