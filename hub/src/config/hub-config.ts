import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

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
}

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
  };
  if (problems.length > 0) throw new HubConfigError(problems);
  return config;
}

/** Nest injection token for {@link HubConfig}. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');
