import { checkCapabilities } from '@flotilla/proto';
import { isAppPattern } from './app-pattern.js';
import { AGENT_ENV } from './agent-env.js';
import { DNS_NAME, quote, type RaiseIssue, type ReadVariable } from './config-reading.js';
import { readHubTls, type HubTlsConfig } from './hub-tls-config.js';
import { readSimDrift, type SimDriftRule } from './sim-drift.js';

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

/** How the agent authenticates to NATS. The password stays in this object and is never logged. */
export type NatsAuthConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'password'; readonly user: string; readonly password: string }
  | { readonly kind: 'creds'; readonly file: string }
  | NatsOperatorAuthConfig;

// --- NATS decentralized auth (FLOTILLA_NATS_ENROLLMENT_JWT) ---

/**
 * The hub is the NATS operator: the agent makes its own user nkey (the seed stays in its state
 * store), exchanges the bootstrap token for a user JWT over NATS as the shared enrollment user, and
 * renews that JWT before it expires.
 */
export interface NatsOperatorAuthConfig {
  readonly kind: 'operator';
  /** The enrollment user's bearer JWT: it may only ask the hub for a cluster identity. Never logged. */
  readonly enrollmentJwt: string;
}

/** A JWT's shape: three base64url parts. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// --- end of NATS decentralized auth ---

/** The gRPC hub link: one stream to the hub, authenticated by the bootstrap token, then the credential. */
export interface GrpcTransportConfig {
  readonly kind: 'grpc';
  /** `host:port` of the hub's agent endpoint. */
  readonly hubAddress: string;
  readonly tls: HubTlsConfig;
}

/** The NATS JetStream hub link: identity and permissions come from the cluster's NATS user. */
export interface NatsTransportConfig {
  readonly kind: 'nats';
  /** Server URLs (`nats://host:port`, `tls://host:port` or `host:port`). */
  readonly servers: readonly string[];
  readonly auth: NatsAuthConfig;
  /** KV bucket of desired state, keyed `<cluster>.<app>`. */
  readonly kvBucket: string;
  /** FLOTILLA_NATS_CA_FILE: PEM of the CA(s) the NATS server's certificate is verified with. */
  readonly caFile: string | undefined;
}

/** Which hub link to run, with its settings. */
export type TransportConfig = GrpcTransportConfig | NatsTransportConfig;

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
  transport: 'grpc',
  natsKvBucket: 'flotilla-desired',
} as const;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const BRACKETED_IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
// A token travels as a gRPC metadata value: visible ASCII only, no spaces.
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;
// A KV bucket name becomes a subject token: no dots, wildcards, spaces or path separators.
const BUCKET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

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

/** The transport and its settings; undefined when a required setting is missing or invalid. */
function readTransport(read: ReadVariable, issue: RaiseIssue): TransportConfig | undefined {
  const kind = read(AGENT_ENV.transport) ?? CONFIG_DEFAULTS.transport;
  if (kind === 'grpc') {
    const hubAddress = read(AGENT_ENV.hubAddress);
    if (hubAddress === undefined) {
      issue('required', AGENT_ENV.hubAddress, `${AGENT_ENV.hubAddress} is required (host:port of the hub's agent endpoint)`);
      return undefined;
    }
    const problem = hubAddressProblem(hubAddress);
    const tls = readHubTls(read, issue);
    if (problem !== undefined) {
      issue('invalid', AGENT_ENV.hubAddress, `${AGENT_ENV.hubAddress} ${problem}`);
      return undefined;
    }
    return tls === undefined ? undefined : { kind: 'grpc', hubAddress, tls };
  }
  if (kind !== 'nats') {
    issue('invalid', AGENT_ENV.transport, `${AGENT_ENV.transport} must be 'grpc' or 'nats'; got ${quote(kind)}`);
    return undefined;
  }
  const url = read(AGENT_ENV.natsUrl);
  const servers = (url ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (servers.length === 0) issue('required', AGENT_ENV.natsUrl, `${AGENT_ENV.natsUrl} is required with ${AGENT_ENV.transport}=nats (comma list of NATS servers)`);
  for (const [index, server] of servers.entries()) {
    const problem = natsServerProblem(server);
    if (problem !== undefined) issue('invalid', AGENT_ENV.natsUrl, `${AGENT_ENV.natsUrl} entry ${index + 1} ${problem}`);
  }
  const kvBucket = read(AGENT_ENV.natsKvBucket) ?? CONFIG_DEFAULTS.natsKvBucket;
  if (!BUCKET_NAME.test(kvBucket)) {
    issue('invalid', AGENT_ENV.natsKvBucket, `${AGENT_ENV.natsKvBucket} must be 1 to 64 letters, digits, '-' or '_'; got ${quote(kvBucket)}`);
  }
  const user = read(AGENT_ENV.natsUser);
  const password = read(AGENT_ENV.natsPassword);
  const creds = read(AGENT_ENV.natsCreds);
  const enrollmentJwt = read(AGENT_ENV.natsEnrollmentJwt);
  let auth: NatsAuthConfig = { kind: 'none' };
  if (enrollmentJwt !== undefined && (creds !== undefined || user !== undefined || password !== undefined)) {
    issue('invalid', AGENT_ENV.natsEnrollmentJwt, `${AGENT_ENV.natsEnrollmentJwt} makes the agent enroll its own NATS user: unset ${AGENT_ENV.natsCreds}, ${AGENT_ENV.natsUser} and ${AGENT_ENV.natsPassword}`);
  } else if (enrollmentJwt !== undefined) {
    if (JWT_SHAPE.test(enrollmentJwt)) auth = { kind: 'operator', enrollmentJwt };
    else issue('invalid', AGENT_ENV.natsEnrollmentJwt, `${AGENT_ENV.natsEnrollmentJwt} must be a JWT (three base64url parts; value not shown)`);
  } else if (creds !== undefined && (user !== undefined || password !== undefined)) {
    issue('invalid', AGENT_ENV.natsCreds, `${AGENT_ENV.natsCreds} and ${AGENT_ENV.natsUser}/${AGENT_ENV.natsPassword} are exclusive: set one`);
  } else if (creds !== undefined) {
    auth = { kind: 'creds', file: creds };
  } else if (user !== undefined && password !== undefined) {
    auth = { kind: 'password', user, password };
  } else if (user !== undefined) {
    issue('required', AGENT_ENV.natsPassword, `${AGENT_ENV.natsPassword} is required with ${AGENT_ENV.natsUser}`);
  } else if (password !== undefined) {
    issue('required', AGENT_ENV.natsUser, `${AGENT_ENV.natsUser} is required with ${AGENT_ENV.natsPassword}`);
  }
  return { kind: 'nats', servers, auth, kvBucket, caFile: read(AGENT_ENV.natsCaFile) };
}

/**
 * Why a NATS server entry is unusable, or undefined: `nats://` or `tls://` (or no scheme), a host, an
 * optional port. Credentials inside the URL are refused without echoing the entry.
 */
function natsServerProblem(server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(server.includes('://') ? server : `nats://${server}`);
  } catch {
    return `must be nats://host:port, tls://host:port or host:port; got ${quote(server)}`;
  }
  if (url.username !== '' || url.password !== '') return `holds credentials; use ${AGENT_ENV.natsUser}/${AGENT_ENV.natsPassword} or ${AGENT_ENV.natsCreds} (value not shown)`;
  if (!['nats:', 'tls:'].includes(url.protocol) || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return `must be nats://host:port, tls://host:port or host:port; got ${quote(server)}`;
  }
  return undefined;
}

function hubAddressProblem(address: string): string | undefined {
  if (address.includes('://')) return `must be host:port without a scheme; got ${quote(address)}`;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return `must be host:port; got ${quote(address)}`;
  const host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    return `must end with a port between 1 and 65535; got ${quote(address)}`;
  }
  const ipv4 = IPV4.exec(host);
  if (ipv4 !== null) {
    return ipv4.slice(1).every((octet) => Number(octet) <= 255) ? undefined : `has an invalid IPv4 address; got ${quote(address)}`;
  }
  if (BRACKETED_IPV6.test(host) || (host.length <= 253 && DNS_NAME.test(host))) return undefined;
  return `must be host:port with a DNS name, an IPv4 address or a [bracketed] IPv6 address; got ${quote(address)}`;
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
