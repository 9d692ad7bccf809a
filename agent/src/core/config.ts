import { checkCapabilities } from '@flotilla/proto';
import { isAppPattern } from './app-pattern.js';
import { AGENT_ENV } from './agent-env.js';
import { quote, type RaiseIssue, type ReadVariable } from './config-reading.js';
import { readSimDrift, type SimDriftRule } from './sim-drift.js';
import { readTransport, TRANSPORT_DEFAULTS, type TransportConfig } from './transport-config.js';

/**
 * Agent configuration, validated once at boot from environment variables. The variable names are a
 * public contract (Helm chart, docs): see {@link AGENT_ENV}.
 */

export { AGENT_ENV } from './agent-env.js';

/** Log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings of the simulated cluster driver. */
export interface SimDriverConfig {
  readonly kind: 'sim';
  /** Milliseconds from apply until an App is judged HEALTHY (or DEGRADED). */
  readonly healthyAfterMs: number;
  /** App names or `*` globs the simulated cluster judges DEGRADED. */
  readonly failApps: readonly string[];
  /** The Kubernetes version the simulated cluster reports in Hello (FLOTILLA_SIM_KUBERNETES_VERSION); the driver's default when unset. */
  readonly kubernetesVersion?: string;
  /** Simulated out-of-band edits (FLOTILLA_SIM_DRIFT, see sim-drift.ts); absent when none. */
  readonly drift?: readonly SimDriftRule[];
}

/** Settings of the Kubernetes driver (credentials come from {@link KubeAccessConfig}). */
export interface KubeDriverConfig {
  readonly kind: 'kube';
}

/** Which cluster driver to run. */
export type DriverConfig = SimDriverConfig | KubeDriverConfig;

/**
 * How the agent reaches the Kubernetes API (the kube driver and the Secret cache store): a kubeconfig
 * file (`FLOTILLA_KUBECONFIG`, else `KUBECONFIG`), or undefined for the default (in a pod: the service
 * account), and the agent's own namespace when configured.
 */
export interface KubeAccessConfig {
  readonly kubeconfig: string | undefined;
  /** `FLOTILLA_AGENT_NAMESPACE`, else `POD_NAMESPACE`; undefined: the kubeconfig context's namespace. */
  readonly agentNamespace: string | undefined;
}

/** Where the desired-state cache and the credential are kept. */
export type CacheStoreConfig =
  | { readonly kind: 'file' }
  /** Secrets `<namePrefix>-desired-state`, `<namePrefix>-credential`... in the agent's namespace. */
  | { readonly kind: 'secret'; readonly namePrefix: string };

/** The validated agent configuration. */
export interface AgentConfig {
  readonly transport: TransportConfig;
  /** Registered cluster name (DNS-1123 label). */
  readonly clusterName: string;
  /** One-time bootstrap token; undefined when the agent relies on a stored credential. */
  readonly bootstrapToken: string | undefined;
  /** Directory for the desired-state cache and the credential. */
  readonly stateDir: string;
  readonly driver: DriverConfig;
  readonly kube: KubeAccessConfig;
  readonly cacheStore: CacheStoreConfig;
  readonly logLevel: LogLevel;
  /** Port of the /healthz and /readyz server; undefined when no probe server runs. */
  readonly probePort: number | undefined;
  /** Longest delay between two reconnect attempts, in milliseconds. */
  readonly reconnectMaxMs: number;
}

/** Machine-readable kind of a configuration problem. */
export type ConfigIssueCode = 'required' | 'invalid' | 'unavailable';

/** One configuration problem. `path` is the environment variable; `message` never echoes a secret. */
export interface ConfigIssue {
  readonly code: ConfigIssueCode;
  readonly path: string;
  readonly message: string;
}

/** Result of {@link loadAgentConfig}: a config, or every problem found (sorted by path). */
export type AgentConfigResult =
  | { readonly ok: true; readonly config: AgentConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Defaults applied when a variable is unset or empty. */
export const CONFIG_DEFAULTS = {
  simHealthyAfterMs: 2000,
  logLevel: 'info',
  reconnectMaxMs: 30_000,
  ...TRANSPORT_DEFAULTS,
} as const;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// A token travels as a gRPC metadata value: visible ASCII only, no spaces.
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/**
 * Validates the agent's environment. Never throws: every problem comes back as an issue, and all
 * problems are reported at once. Empty values count as unset (Helm often renders empty strings).
 * Issue messages may quote non-secret values but never the bootstrap token.
 */
export function loadAgentConfig(env: Readonly<Record<string, string | undefined>>): AgentConfigResult {
  const issues: ConfigIssue[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const issue = (code: ConfigIssueCode, path: string, message: string): void => {
    issues.push({ code, path, message });
  };

  const transport = readTransport(read, issue);

  const clusterName = read(AGENT_ENV.clusterName);
  if (clusterName === undefined) {
    issue('required', AGENT_ENV.clusterName, `${AGENT_ENV.clusterName} is required (the registered cluster name)`);
  } else if (clusterName.length > 63 || !DNS_1123_LABEL.test(clusterName)) {
    issue(
      'invalid',
      AGENT_ENV.clusterName,
      `${AGENT_ENV.clusterName} must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, starting and ending alphanumeric); got ${quote(clusterName)}`,
    );
  }

  const bootstrapToken = read(AGENT_ENV.bootstrapToken);
  if (bootstrapToken !== undefined && !TOKEN_SHAPE.test(bootstrapToken)) {
    issue('invalid', AGENT_ENV.bootstrapToken, `${AGENT_ENV.bootstrapToken} must be visible ASCII without spaces (value not shown)`);
  }

  const driverName = read(AGENT_ENV.driver) ?? 'sim';
  if (driverName !== 'sim' && driverName !== 'kube') {
    issue('invalid', AGENT_ENV.driver, `${AGENT_ENV.driver} must be 'sim' or 'kube'; got ${quote(driverName)}`);
  }
  const kube = readKubeAccess(read, issue);
  const cacheStore = readCacheStore(read, issue);

  const healthyAfterMs = readInteger(read(AGENT_ENV.simHealthyAfterMs), AGENT_ENV.simHealthyAfterMs, {
    min: 0,
    max: 86_400_000,
    fallback: CONFIG_DEFAULTS.simHealthyAfterMs,
    issue,
  });

  const failApps = (read(AGENT_ENV.simFailApps) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const pattern of failApps.filter((entry) => !isAppPattern(entry))) {
    issue(
      'invalid',
      AGENT_ENV.simFailApps,
      `${AGENT_ENV.simFailApps} entries must be App names or '*' globs (lowercase letters, digits, '.', '-', '*'); got ${quote(pattern)}`,
    );
  }

  const simKubernetesVersion = read(AGENT_ENV.simKubernetesVersion);
  if (simKubernetesVersion !== undefined && !checkCapabilities(simKubernetesVersion, []).ok) {
    issue('invalid', AGENT_ENV.simKubernetesVersion, `${AGENT_ENV.simKubernetesVersion} must be a Kubernetes version like v1.35.0; got ${quote(simKubernetesVersion)}`);
  }

  const simDrift = readSimDrift(read, issue);

  const logLevelText = read(AGENT_ENV.logLevel) ?? CONFIG_DEFAULTS.logLevel;
  const logLevel = LOG_LEVELS.find((level) => level === logLevelText);
  if (logLevel === undefined) {
    issue('invalid', AGENT_ENV.logLevel, `${AGENT_ENV.logLevel} must be one of ${LOG_LEVELS.join(', ')}; got ${quote(logLevelText)}`);
  }

  const probePortText = read(AGENT_ENV.probePort);
  const probePort =
    probePortText === undefined
      ? undefined
      : readInteger(probePortText, AGENT_ENV.probePort, { min: 1, max: 65_535, fallback: 0, issue });

  const reconnectMaxMs = readInteger(read(AGENT_ENV.reconnectMaxMs), AGENT_ENV.reconnectMaxMs, {
    min: 100,
    max: 3_600_000,
    fallback: CONFIG_DEFAULTS.reconnectMaxMs,
    issue,
  });

  if (issues.length > 0 || transport === undefined || clusterName === undefined || logLevel === undefined) {
    return { ok: false, issues: issues.sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message)) };
  }
  return {
    ok: true,
    config: {
      transport,
      clusterName,
      bootstrapToken,
      stateDir: read(AGENT_ENV.stateDir) ?? `./.flotilla/agent-${clusterName}`,
      driver: driverName === 'kube' ? { kind: 'kube' } : { kind: 'sim', healthyAfterMs, failApps: [...new Set(failApps)].sort(), ...(simKubernetesVersion !== undefined ? { kubernetesVersion: simKubernetesVersion } : {}), ...(simDrift.length > 0 ? { drift: simDrift } : {}) },
      kube,
      cacheStore,
      logLevel,
      probePort,
      reconnectMaxMs,
    },
  };
}

/**
 * The issue raised when neither a stored credential nor a bootstrap token is available: the hub
 * would refuse every connection, so the agent should not start. Returns `undefined` when one exists.
 */
export function credentialIssue(hasStoredCredential: boolean, config: AgentConfig): ConfigIssue | undefined {
  // Over NATS the cluster's NATS user is the identity; no hub credential is exchanged. With the hub as
  // NATS operator, `hasStoredCredential` means a stored NATS identity, and the same rule holds.
  if ((config.transport.kind === 'nats' && config.transport.auth.kind !== 'operator') || hasStoredCredential || config.bootstrapToken !== undefined) return undefined;
  return {
    code: 'required',
    path: AGENT_ENV.bootstrapToken,
    message: `${AGENT_ENV.bootstrapToken} is required: no agent credential is stored in ${
      config.cacheStore.kind === 'secret' ? `Secret ${config.cacheStore.namePrefix}-credential` : config.stateDir
    } yet`,
  };
}


/** Kubeconfig path and agent namespace. The namespace must be a DNS-1123 label when given. */
function readKubeAccess(read: ReadVariable, issue: RaiseIssue): KubeAccessConfig {
  const kubeconfig = read(AGENT_ENV.kubeconfig) ?? read(AGENT_ENV.standardKubeconfig);
  const namespaceVariable = read(AGENT_ENV.agentNamespace) !== undefined ? AGENT_ENV.agentNamespace : AGENT_ENV.podNamespace;
  const agentNamespace = read(namespaceVariable);
  if (agentNamespace !== undefined && (agentNamespace.length > 63 || !DNS_1123_LABEL.test(agentNamespace))) {
    issue('invalid', namespaceVariable, `${namespaceVariable} must be a namespace name (DNS-1123 label); got ${quote(agentNamespace)}`);
  }
  return { kubeconfig, agentNamespace };
}

/** `file` (default) or `secret`, with the Secret name prefix. */
function readCacheStore(read: ReadVariable, issue: RaiseIssue): CacheStoreConfig {
  const kind = read(AGENT_ENV.cacheStore) ?? 'file';
  if (kind !== 'file' && kind !== 'secret') {
    issue('invalid', AGENT_ENV.cacheStore, `${AGENT_ENV.cacheStore} must be 'file' or 'secret'; got ${quote(kind)}`);
    return { kind: 'file' };
  }
  if (kind === 'file') return { kind: 'file' };
  const namePrefix = read(AGENT_ENV.cacheSecretPrefix) ?? 'flotilla-agent';
  // The longest Secret name is `<prefix>-kube-inventory-g<generation>-<shard>`: keep room under 253.
  if (namePrefix.length > 200 || !DNS_1123_LABEL.test(namePrefix)) {
    issue('invalid', AGENT_ENV.cacheSecretPrefix, `${AGENT_ENV.cacheSecretPrefix} must be lowercase letters, digits and '-' (at most 200); got ${quote(namePrefix)}`);
  }
  return { kind: 'secret', namePrefix };
}


interface IntegerRule {
  readonly min: number;
  readonly max: number;
  readonly fallback: number;
  readonly issue: (code: ConfigIssueCode, path: string, message: string) => void;
}

function readInteger(text: string | undefined, name: string, rule: IntegerRule): number {
  if (text === undefined) return rule.fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < rule.min || value > rule.max) {
    rule.issue('invalid', name, `${name} must be a whole number from ${rule.min} to ${rule.max}; got ${quote(text)}`);
    return rule.fallback;
  }
  return value;
}
