import { isAppPattern } from './app-pattern.js';

/**
 * Agent configuration, validated once at boot from environment variables. The variable names are a
 * public contract (Helm chart, docs): see {@link AGENT_ENV}.
 */

/** The environment variables the agent reads. Nothing else in the agent reads `process.env`. */
export const AGENT_ENV = {
  hubAddress: 'FLOTILLA_HUB_ADDRESS',
  clusterName: 'FLOTILLA_CLUSTER_NAME',
  bootstrapToken: 'FLOTILLA_BOOTSTRAP_TOKEN',
  stateDir: 'FLOTILLA_STATE_DIR',
  driver: 'FLOTILLA_DRIVER',
  simHealthyAfterMs: 'FLOTILLA_SIM_HEALTHY_AFTER_MS',
  simFailApps: 'FLOTILLA_SIM_FAIL_APPS',
  logLevel: 'FLOTILLA_LOG_LEVEL',
  probePort: 'FLOTILLA_PROBE_PORT',
  reconnectMaxMs: 'FLOTILLA_RECONNECT_MAX_MS',
} as const;

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
}

/** Which cluster driver to run. A union so that `kube` can join with its own settings. */
export type DriverConfig = SimDriverConfig;

/** The validated agent configuration. */
export interface AgentConfig {
  /** `host:port` of the hub's agent endpoint. */
  readonly hubAddress: string;
  /** Registered cluster name (DNS-1123 label). */
  readonly clusterName: string;
  /** One-time bootstrap token; undefined when the agent relies on a stored credential. */
  readonly bootstrapToken: string | undefined;
  /** Directory for the desired-state cache and the credential. */
  readonly stateDir: string;
  readonly driver: DriverConfig;
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
} as const;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const BRACKETED_IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
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

  const hubAddress = read(AGENT_ENV.hubAddress);
  if (hubAddress === undefined) {
    issue('required', AGENT_ENV.hubAddress, `${AGENT_ENV.hubAddress} is required (host:port of the hub's agent endpoint)`);
  } else {
    const problem = hubAddressProblem(hubAddress);
    if (problem !== undefined) issue('invalid', AGENT_ENV.hubAddress, `${AGENT_ENV.hubAddress} ${problem}`);
  }

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
  if (driverName === 'kube') {
    issue('unavailable', AGENT_ENV.driver, `${AGENT_ENV.driver}=kube is not available yet in this build; use 'sim'`);
  } else if (driverName !== 'sim') {
    issue('invalid', AGENT_ENV.driver, `${AGENT_ENV.driver} must be 'sim' (or 'kube' once available); got ${quote(driverName)}`);
  }

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

  if (issues.length > 0 || hubAddress === undefined || clusterName === undefined || logLevel === undefined) {
    return { ok: false, issues: issues.sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message)) };
  }
  return {
    ok: true,
    config: {
      hubAddress,
      clusterName,
      bootstrapToken,
      stateDir: read(AGENT_ENV.stateDir) ?? `./.flotilla/agent-${clusterName}`,
      driver: { kind: 'sim', healthyAfterMs, failApps: [...new Set(failApps)].sort() },
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
  if (hasStoredCredential || config.bootstrapToken !== undefined) return undefined;
  return {
    code: 'required',
    path: AGENT_ENV.bootstrapToken,
    message: `${AGENT_ENV.bootstrapToken} is required: no agent credential is stored in ${config.stateDir} yet`,
  };
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

/** Quotes a non-secret value for a message, bounded so that a pasted blob cannot flood the log. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}
