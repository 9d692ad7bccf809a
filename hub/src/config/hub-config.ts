import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { OidcConfig } from '../auth/oidc-verifier';
import { ROLES, type Role, type RoleBinding } from '../core/auth/principal';
import { parseSubjectAltNames, type SubjectAltName } from '../core/tls/server-names';
import { loadCrossSiteConfig, type CrossSiteConfig } from './cross-site-config';
import { loadAgentNatsConfig, type AgentNatsConfig } from './agent-nats-config';
import { loadSecretsConfig, type SecretsConfig } from './secrets-config';
import { loadLocalAccessConfig, type LocalAccessConfig } from './local-access-config';
import { loadGraphqlLimitsConfig, type GraphqlLimitsConfig } from './graphql-limits-config';
import { loadRenderConfig, type RenderConfig } from './render-config';
import { loadAppSizeConfig, type AppSizeConfig } from './app-size-config';
import { loadKustomizeConfig, type KustomizeConfig } from './kustomize-config';
import { loadHelmConfig, type HelmConfig } from './helm-config';
import { loadGitWebhookConfig, type GitWebhookConfig } from './git-webhook-config';
import { loadLogConfig, type LogConfig } from './log-config';
import { loadWebConfig, type WebConfig } from './web-config';
import { loadOidcWebConfig, type OidcWebConfig } from './oidc-web-config';
import { NATS_PRESENCE, loadNatsConfig, type NatsConfig } from './nats-config';
import { boundedIntegerReader } from './env-reading';

export { DEFAULT_NATS_USER_JWT_TTL_SECONDS, NATS_PRESENCE, parseNatsServers, type NatsAuth, type NatsConfig, type NatsOperatorAuth } from './nats-config';

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
  /**
   * Lifetime in seconds of the client certificates agents enroll and renew: FLOTILLA_AGENT_CERT_TTL_DAYS,
   * or FLOTILLA_AGENT_CERT_TTL_SECONDS for the short lifetimes of tests and trials (never both).
   */
  readonly agentCertTtlSeconds: number;
  /** Identifies this process among several replicas. */
  readonly replicaId: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How the log is written: JSON lines or text (see log-config.ts). */
  readonly log: LogConfig;
  /** The NATS JetStream agent link; undefined when FLOTILLA_NATS_URL is unset (gRPC only). */
  readonly nats: NatsConfig | undefined;
  /** Who may call the API. */
  readonly auth: AuthConfig;
  /** TLS of the gRPC agent link. */
  readonly agentLinkTls: AgentLinkTlsConfig;
  /** Which Host and Origin values the HTTP edge answers (see cross-site-config.ts). */
  readonly crossSite: CrossSiteConfig;
  /** Where agents reach NATS, when not where the hub does (install command only; see agent-nats-config.ts). */
  readonly agentNats: AgentNatsConfig;
  /** How secret values are redacted on output (see secrets-config.ts). */
  readonly secrets: SecretsConfig;
  /** What the Git generator may read on the hub's disk and network, and git's timeouts (see local-access-config.ts). */
  readonly localAccess: LocalAccessConfig;
  /** Cost, size, depth and rate limits of GraphQL requests (see graphql-limits-config.ts). */
  readonly graphqlLimits: GraphqlLimitsConfig;
  /** Time, memory and size limits of AppSet renders and the worker threads they run in (see render-config.ts). */
  readonly render: RenderConfig;
  /** How large one App may be: FLOTILLA_MAX_APP_MB (see app-size-config.ts). */
  readonly appSize: AppSizeConfig;
  /** How `spec.template.kustomize` is rendered: binary, time and size limits (see kustomize-config.ts). */
  readonly kustomize: KustomizeConfig;
  /** The helm binary, chart repositories and the limits of Helm renders (see helm-config.ts). */
  readonly helm: HelmConfig;
  /** Push webhooks from Git hosts: the secrets file and the body limit (see git-webhook-config.ts). */
  readonly gitWebhook: GitWebhookConfig;
  /** The built dashboard served at / (see web-config.ts). */
  readonly web: WebConfig;
  /** The dashboard's OIDC sign-in (public client); undefined: API tokens only (see oidc-web-config.ts). */
  readonly oidcWeb: OidcWebConfig | undefined;
}

/** TLS of the gRPC agent link and the CA behind it. The encryption key stays in this object and is never logged. */
export interface AgentLinkTlsConfig {
  /** FLOTILLA_GRPC_INSECURE: serve the agent link in plaintext (development only; a warning at start). */
  readonly insecure: boolean;
  /** FLOTILLA_GRPC_TLS_SANS: names the server certificate carries besides the agent address, the listen host and loopback. */
  readonly extraNames: readonly SubjectAltName[];
  /**
   * FLOTILLA_CA_ENCRYPTION_KEY, decoded (32 bytes): encrypts the CA's private key in the database.
   * Undefined: the hub generates one at first start and keeps it in `<dataDir>/ca-encryption-key`.
   */
  readonly caEncryptionKey: Buffer | undefined;
  /**
   * FLOTILLA_CA_CERT_FILE and FLOTILLA_CA_KEY_FILE: an operator-supplied CA (PEM) used instead of the
   * hub's own; FLOTILLA_CA_TRUST_FILE: further CA certificates trusted and handed to agents (to rotate it).
   */
  readonly caFiles: { readonly certFile: string; readonly keyFile: string; readonly trustFile?: string | undefined } | undefined;
}

/** API authentication settings. Secrets stay in this object and are never logged. */
export interface AuthConfig {
  /** FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: presets the fleet-admin token instead of generating one at first start. */
  readonly bootstrapAdminToken: string | undefined;
  /** Bearer JWTs from an OIDC issuer; undefined when FLOTILLA_OIDC_ISSUER is unset (API tokens only). */
  readonly oidc: OidcSettings | undefined;
}

/** How OIDC bearer JWTs are verified (see {@link OidcConfig}) and mapped to roles. */
export interface OidcSettings extends OidcConfig {
  /** Which groups get which role, in which project. */
  readonly bindings: readonly RoleBinding[];
}

/** The shape of API tokens: a fixed prefix and at least 32 base64url characters. */
export const API_TOKEN_PATTERN = /^flt_api_[A-Za-z0-9_-]{32,256}$/;
const DEFAULT_OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);


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
  const int = boundedIntegerReader(env, problems);
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
    agentCertTtlSeconds: loadAgentCertTtlSeconds(env, problems, int),
    replicaId: env['FLOTILLA_REPLICA_ID'] || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    logLevel,
    log: loadLogConfig(env, problems),
    nats: loadNatsConfig(env, problems),
    auth: loadAuthConfig(env, problems, int),
    agentLinkTls: loadAgentLinkTlsConfig(env, problems, bool),
    crossSite: loadCrossSiteConfig(env, problems),
    agentNats: loadAgentNatsConfig(env, problems),
    secrets: loadSecretsConfig(env, problems),
    localAccess: loadLocalAccessConfig(env, problems, argv),
    graphqlLimits: loadGraphqlLimitsConfig(env, problems, demoFlag),
    render: loadRenderConfig(env, problems),
    appSize: loadAppSizeConfig(env, problems),
    kustomize: loadKustomizeConfig(env, problems),
    helm: loadHelmConfig(env, problems),
    gitWebhook: loadGitWebhookConfig(env, problems),
    web: loadWebConfig(env, problems),
    oidcWeb: loadOidcWebConfig(env, problems),
  };
  if (config.replicaId === NATS_PRESENCE) problems.push(`FLOTILLA_REPLICA_ID must not be "${NATS_PRESENCE}" (it marks clusters connected over NATS)`);
  if (problems.length > 0) throw new HubConfigError(problems);
  return config;
}

const DAY_SECONDS = 86_400;
/** The longest client-certificate lifetime, whichever variable sets it. */
const MAX_AGENT_CERT_TTL_SECONDS = 365 * DAY_SECONDS;

/**
 * Reads FLOTILLA_AGENT_CERT_TTL_DAYS (1 to 365, default 30) or FLOTILLA_AGENT_CERT_TTL_SECONDS (60 s
 * to 365 days: lifetimes short enough to watch a renewal in a test or a trial); setting both is refused.
 */
function loadAgentCertTtlSeconds(env: Record<string, string | undefined>, problems: string[], int: (name: string, fallback: number, min: number, max: number) => number): number {
  const fallback = 30 * DAY_SECONDS;
  const isSet = (name: string) => (env[name] ?? '') !== '';
  if (isSet('FLOTILLA_AGENT_CERT_TTL_SECONDS') && isSet('FLOTILLA_AGENT_CERT_TTL_DAYS')) {
    problems.push('FLOTILLA_AGENT_CERT_TTL_DAYS and FLOTILLA_AGENT_CERT_TTL_SECONDS are exclusive: set one (SECONDS is meant for short lifetimes in tests and trials)');
    return fallback;
  }
  if (isSet('FLOTILLA_AGENT_CERT_TTL_SECONDS')) return int('FLOTILLA_AGENT_CERT_TTL_SECONDS', fallback, 60, MAX_AGENT_CERT_TTL_SECONDS);
  return int('FLOTILLA_AGENT_CERT_TTL_DAYS', 30, 1, 365) * DAY_SECONDS;
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

/** Reads FLOTILLA_GRPC_INSECURE, FLOTILLA_GRPC_TLS_SANS and the FLOTILLA_CA_* variables. The key is never echoed. */
function loadAgentLinkTlsConfig(env: Record<string, string | undefined>, problems: string[], bool: (name: string, fallback: boolean) => boolean): AgentLinkTlsConfig {
  const read = (name: string) => env[name]?.trim() || undefined;
  const { names, refused } = parseSubjectAltNames(read('FLOTILLA_GRPC_TLS_SANS') ?? '');
  if (refused.length > 0) {
    problems.push(`FLOTILLA_GRPC_TLS_SANS must list DNS names (optionally *.-wildcarded) or IP addresses, without ports; refused: ${refused.map((r) => JSON.stringify(r.slice(0, 80))).join(', ')}`);
  }
  const keyText = read('FLOTILLA_CA_ENCRYPTION_KEY');
  let caEncryptionKey: Buffer | undefined;
  if (keyText !== undefined) {
    caEncryptionKey = /^[A-Za-z0-9+/_-]+={0,2}$/.test(keyText) ? Buffer.from(keyText, 'base64') : undefined;
    if (caEncryptionKey?.length !== 32) {
      problems.push('FLOTILLA_CA_ENCRYPTION_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`); value not shown');
      caEncryptionKey = undefined;
    }
  }
  const certFile = read('FLOTILLA_CA_CERT_FILE');
  const keyFile = read('FLOTILLA_CA_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) problems.push('FLOTILLA_CA_CERT_FILE and FLOTILLA_CA_KEY_FILE must be set together (the PEM certificate and private key of an operator-supplied CA)');
  const trustFile = read('FLOTILLA_CA_TRUST_FILE');
  if (trustFile !== undefined && certFile === undefined) problems.push("FLOTILLA_CA_TRUST_FILE applies to an operator-supplied CA (FLOTILLA_CA_CERT_FILE); the hub's own CA is rotated with rotateAgentLinkCA");
  return {
    insecure: bool('FLOTILLA_GRPC_INSECURE', false),
    extraNames: names,
    caEncryptionKey,
    caFiles: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile, trustFile } : undefined,
  };
}

/** Nest injection token for {@link HubConfig}. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');
