import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ROLES, type Role, type RoleBinding } from '../core/auth/principal';

/** The hub's configuration, validated once at boot. Nothing else in the hub reads `process.env`. */
export interface HubConfig {
  /** GraphQL, /healthz and /metrics. */
  readonly host: string;
  readonly port: number;
  /** gRPC agent link; 0 picks a free port. */
  readonly grpcHost: string;
  readonly grpcPort: number;
  /** The address agents dial (host:port), as shown in install commands; default grpcHost:grpcPort. */
  readonly agentAddress: string | undefined;
  /** PostgreSQL URL; undefined means the embedded database in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Start the demo fleet of simulated agents. */
  readonly demo: boolean;
  readonly heartbeatIntervalSeconds: number;
  readonly inventoryIntervalSeconds: number;
  /** Period of the outbox scan that backs up NOTIFY wake-ups. */
  readonly outboxScanMs: number;
  readonly bootstrapTokenTtlSeconds: number;
  /** Identifies this process among several replicas. */
  readonly replicaId: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The NATS JetStream agent link; undefined when FLOTILLA_NATS_URL is unset (gRPC only). */
  readonly nats: NatsConfig | undefined;
  /** Who may call the API. */
  readonly auth: AuthConfig;
}

/** API authentication settings. Secrets stay in this object and are never logged. */
export interface AuthConfig {
  /** FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: presets the fleet-admin token instead of generating one at first start. */
  readonly bootstrapAdminToken: string | undefined;
  /** Bearer JWTs from an OIDC issuer; undefined when FLOTILLA_OIDC_ISSUER is unset (API tokens only). */
  readonly oidc: OidcSettings | undefined;
}

/** How OIDC bearer JWTs are verified and mapped to roles. */
export interface OidcSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Undefined: discovered from the issuer's /.well-known/openid-configuration. */
  readonly jwksUrl: string | undefined;
  /** Claim holding the caller's groups (a dotted path reaches nested claims). */
  readonly groupsClaim: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly jwksCooldownSeconds: number;
  /** Which groups get which role, in which project. */
  readonly bindings: readonly RoleBinding[];
}

/** The shape of API tokens: a fixed prefix and at least 32 base64url characters. */
export const API_TOKEN_PATTERN = /^flt_api_[A-Za-z0-9_-]{32,256}$/;
const DEFAULT_OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

/** How the hub authenticates to NATS. Secrets stay in this object and are never logged. */
export type NatsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'password'; readonly user: string; readonly password: string }
  | { readonly kind: 'creds'; readonly file: string };

/** Settings of the NATS agent link. */
export interface NatsConfig {
  /** Server URLs (`nats://host:port`, `tls://host:port` or `host:port`), tried in order. */
  readonly servers: readonly string[];
  readonly auth: NatsAuth;
  /** JetStream KV bucket of desired state, keyed `<cluster>.<app>`. */
  readonly kvBucket: string;
  /** JetStream stream of agent messages (subjects `reports.<cluster>`). */
  readonly reportsStream: string;
}

/** The `connected_replica` value of clusters whose agent talks over NATS (no replica holds a stream). */
export const NATS_PRESENCE = 'nats';

export class HubConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid hub configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'HubConfigError';
  }
}

/**
 * Reads and validates the hub configuration from environment variables and command-line flags.
 * Throws {@link HubConfigError} listing every problem at once; never echoes secret values.
 */
export function loadHubConfig(env: Record<string, string | undefined>, argv: readonly string[] = []): HubConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${env[name]}")`);
    return fallback;
  };
  const databaseUrl = env['DATABASE_URL'] || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  const logLevel = (env['FLOTILLA_LOG_LEVEL'] || 'info') as HubConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push('FLOTILLA_LOG_LEVEL must be debug, info, warn or error');
  const demoFlag = argv.includes('--demo');
  const config: HubConfig = {
    host: env['HOST'] || '127.0.0.1',
    port: int('PORT', 4000, 0, 65535),
    grpcHost: env['FLOTILLA_GRPC_HOST'] || env['HOST'] || '127.0.0.1',
    grpcPort: int('FLOTILLA_GRPC_PORT', 4001, 0, 65535),
    agentAddress: env['FLOTILLA_AGENT_ADDRESS'] || undefined,
    databaseUrl,
    dataDir: env['FLOTILLA_DATA_DIR'] || '.flotilla/hub-data',
    demo: bool('FLOTILLA_DEMO', demoFlag) && !argv.includes('--no-demo'),
    heartbeatIntervalSeconds: int('FLOTILLA_HEARTBEAT_SECONDS', 10, 1, 3600),
    inventoryIntervalSeconds: int('FLOTILLA_INVENTORY_SECONDS', 60, 1, 86_400),
    outboxScanMs: int('FLOTILLA_OUTBOX_SCAN_MS', 1000, 50, 60_000),
    bootstrapTokenTtlSeconds: int('FLOTILLA_BOOTSTRAP_TOKEN_TTL_SECONDS', 24 * 3600, 60, 30 * 24 * 3600),
    replicaId: env['FLOTILLA_REPLICA_ID'] || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    logLevel,
    nats: loadNatsConfig(env, problems),
    auth: loadAuthConfig(env, problems, int),
  };
  if (config.replicaId === NATS_PRESENCE) problems.push(`FLOTILLA_REPLICA_ID must not be "${NATS_PRESENCE}" (it marks clusters connected over NATS)`);
  if (problems.length > 0) throw new HubConfigError(problems);
  return config;
}

/** Reads FLOTILLA_BOOTSTRAP_ADMIN_TOKEN and the FLOTILLA_OIDC_* variables. Secrets are never echoed. */
function loadAuthConfig(env: Record<string, string | undefined>, problems: string[], int: (name: string, fallback: number, min: number, max: number) => number): AuthConfig {
  const bootstrapAdminToken = env['FLOTILLA_BOOTSTRAP_ADMIN_TOKEN']?.trim() || undefined;
  if (bootstrapAdminToken !== undefined && !API_TOKEN_PATTERN.test(bootstrapAdminToken)) {
    problems.push('FLOTILLA_BOOTSTRAP_ADMIN_TOKEN must be "flt_api_" followed by 32 to 256 letters, digits, "-" or "_" (e.g. flt_api_$(openssl rand -hex 24))');
  }
  const read = (name: string) => env[name]?.trim() || undefined;
  const issuer = read('FLOTILLA_OIDC_ISSUER');
  const oidcNames = ['FLOTILLA_OIDC_AUDIENCE', 'FLOTILLA_OIDC_JWKS_URL', 'FLOTILLA_OIDC_ROLE_BINDINGS', 'FLOTILLA_OIDC_GROUPS_CLAIM', 'FLOTILLA_OIDC_ALGORITHMS'];
  if (issuer === undefined) {
    const stray = oidcNames.filter((name) => read(name) !== undefined);
    if (stray.length > 0) problems.push(`${stray.join(', ')} need FLOTILLA_OIDC_ISSUER`);
    return { bootstrapAdminToken, oidc: undefined };
  }
  const url = (name: string, value: string) => {
    try {
      const parsed = new URL(value);
      if (!['https:', 'http:'].includes(parsed.protocol) || parsed.username || parsed.password) throw new Error('bad');
    } catch {
      problems.push(`${name} must be an http(s) URL without credentials`);
    }
  };
  url('FLOTILLA_OIDC_ISSUER', issuer);
  const jwksUrl = read('FLOTILLA_OIDC_JWKS_URL');
  if (jwksUrl) url('FLOTILLA_OIDC_JWKS_URL', jwksUrl);
  const audience = read('FLOTILLA_OIDC_AUDIENCE');
  if (!audience) problems.push('FLOTILLA_OIDC_AUDIENCE is required with FLOTILLA_OIDC_ISSUER (the audience the hub accepts in tokens)');
  const algorithms = (read('FLOTILLA_OIDC_ALGORITHMS') ?? DEFAULT_OIDC_ALGORITHMS.join(',')).split(',').map((a) => a.trim()).filter((a) => a !== '');
  const refused = algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.has(a));
  if (refused.length > 0 || algorithms.length === 0) {
    problems.push(`FLOTILLA_OIDC_ALGORITHMS must list asymmetric JWS algorithms (${[...ASYMMETRIC_ALGORITHMS].join(', ')}); refused: ${refused.join(', ') || '(empty)'}`);
  }
  return {
    bootstrapAdminToken,
    oidc: {
      issuer,
      audience: audience ?? '',
      jwksUrl,
      groupsClaim: read('FLOTILLA_OIDC_GROUPS_CLAIM') ?? 'groups',
      algorithms,
      clockToleranceSeconds: int('FLOTILLA_OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
      jwksCooldownSeconds: int('FLOTILLA_OIDC_JWKS_COOLDOWN_SECONDS', 30, 0, 3600),
      bindings: parseRoleBindings(read('FLOTILLA_OIDC_ROLE_BINDINGS'), problems),
    },
  };
}

const PROJECT_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Parses FLOTILLA_OIDC_ROLE_BINDINGS: a JSON array of { group, role, project } (project for OPERATOR and VIEWER only). */
export function parseRoleBindings(text: string | undefined, problems: string[]): RoleBinding[] {
  const name = 'FLOTILLA_OIDC_ROLE_BINDINGS';
  if (text === undefined) {
    problems.push(`${name} is required with FLOTILLA_OIDC_ISSUER, e.g. [{"group":"platform","role":"ADMIN"},{"group":"team-a","role":"OPERATOR","project":"team-a"}]`);
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    problems.push(`${name} must be a JSON array of {"group","role","project"} objects`);
    return [];
  }
  if (!Array.isArray(value)) {
    problems.push(`${name} must be a JSON array of {"group","role","project"} objects`);
    return [];
  }
  const bindings: RoleBinding[] = [];
  value.forEach((entry: unknown, index) => {
    const at = `${name}[${index}]`;
    const record = (entry && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    const { group, role, project } = record;
    const extra = Object.keys(record).filter((key) => !['group', 'role', 'project'].includes(key));
    if (typeof group !== 'string' || group === '' || group.length > 256) problems.push(`${at}.group must be a non-empty string`);
    else if (typeof role !== 'string' || !ROLES.includes(role as Role)) problems.push(`${at}.role must be one of ${ROLES.join(', ')}`);
    else if (role === 'ADMIN' && project !== undefined) problems.push(`${at}: an ADMIN binding is fleet-wide and takes no project`);
    else if (role !== 'ADMIN' && (typeof project !== 'string' || !PROJECT_NAME.test(project))) problems.push(`${at}.project must name a project (a DNS-1123 label) for role ${role}`);
    else if (extra.length > 0) problems.push(`${at} has unknown keys: ${extra.join(', ')}`);
    else bindings.push({ group, role: role as Role, ...(typeof project === 'string' ? { project } : {}) });
  });
  return bindings;
}

// Bucket and stream names become subject tokens: no dots, wildcards, spaces or path separators.
const JETSTREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads the FLOTILLA_NATS_* variables; undefined when NATS is not enabled. Secrets are never echoed. */
function loadNatsConfig(env: Record<string, string | undefined>, problems: string[]): NatsConfig | undefined {
  const read = (name: string) => env[name]?.trim() || undefined;
  const url = read('FLOTILLA_NATS_URL');
  const user = read('FLOTILLA_NATS_USER');
  const password = env['FLOTILLA_NATS_PASSWORD'] || undefined;
  const creds = read('FLOTILLA_NATS_CREDS');
  const kvBucket = read('FLOTILLA_NATS_KV_BUCKET') ?? 'flotilla-desired';
  const reportsStream = read('FLOTILLA_NATS_REPORTS_STREAM') ?? 'FLOTILLA_REPORTS';
  if (url === undefined) {
    if (user || password || creds) problems.push('FLOTILLA_NATS_USER, FLOTILLA_NATS_PASSWORD and FLOTILLA_NATS_CREDS need FLOTILLA_NATS_URL');
    return undefined;
  }
  const servers = parseNatsServers(url, 'FLOTILLA_NATS_URL', problems);
  if (!JETSTREAM_NAME.test(kvBucket)) problems.push(`FLOTILLA_NATS_KV_BUCKET must be 1 to 64 letters, digits, '-' or '_' (got "${kvBucket.slice(0, 80)}")`);
  if (!JETSTREAM_NAME.test(reportsStream)) problems.push(`FLOTILLA_NATS_REPORTS_STREAM must be 1 to 64 letters, digits, '-' or '_' (got "${reportsStream.slice(0, 80)}")`);
  let auth: NatsAuth = { kind: 'none' };
  if (creds && (user || password)) problems.push('FLOTILLA_NATS_CREDS and FLOTILLA_NATS_USER/FLOTILLA_NATS_PASSWORD are exclusive: set one');
  else if (creds) auth = { kind: 'creds', file: creds };
  else if (user && password) auth = { kind: 'password', user, password };
  else if (user || password) problems.push('FLOTILLA_NATS_USER and FLOTILLA_NATS_PASSWORD must be set together');
  return { servers, auth, kvBucket, reportsStream };
}

/**
 * Splits a comma list of NATS server URLs and checks each: `nats://` or `tls://` (or no scheme), a
 * host, an optional port, nothing else. Credentials inside a URL are refused (they would end up in
 * logs); the refusal does not echo the entry.
 */
export function parseNatsServers(text: string, name: string, problems: string[]): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) problems.push(`${name} must list at least one server`);
  for (const [index, entry] of entries.entries()) {
    let url: URL | undefined;
    try {
      url = new URL(entry.includes('://') ? entry : `nats://${entry}`);
    } catch {
      url = undefined;
    }
    if (url && (url.username || url.password)) {
      problems.push(`${name} entry ${index + 1} holds credentials; use FLOTILLA_NATS_USER/FLOTILLA_NATS_PASSWORD or FLOTILLA_NATS_CREDS instead`);
    } else if (!url || !['nats:', 'tls:'].includes(url.protocol) || !url.hostname || (url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
      problems.push(`${name} entry ${index + 1} must be nats://host:port, tls://host:port or host:port (got "${entry.slice(0, 80)}")`);
    }
  }
  return entries;
}

/** Nest injection token for {@link HubConfig}. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');
