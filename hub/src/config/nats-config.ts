/**
 * The NATS agent link's settings (FLOTILLA_NATS_*), read by loadHubConfig. Secrets stay in these
 * objects and are never echoed.
 */

/** How the hub authenticates to NATS. Secrets stay in this object and are never logged. */
export type NatsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'password'; readonly user: string; readonly password: string }
  | { readonly kind: 'creds'; readonly file: string }
  | NatsOperatorAuth;

// --- NATS decentralized auth (FLOTILLA_NATS_OPERATOR and friends; see docs/nats/README.md) ---

/**
 * FLOTILLA_NATS_OPERATOR=true: the hub is the NATS operator. It signs the account JWTs and every
 * cluster's user JWT, and connects as a user it signs for itself. The signing seeds are the hub's own
 * (sealed in the database) unless all three FLOTILLA_NATS_*_SEED_FILE variables name files.
 */
export interface NatsOperatorAuth {
  readonly kind: 'operator';
  /** FLOTILLA_NATS_USER_JWT_TTL_SECONDS: lifetime of a cluster's user JWT; agents renew at 2/3 of it. */
  readonly userJwtTtlSeconds: number;
  /** Operator-supplied seeds (files, e.g. a mounted Secret), instead of the hub's generated ones. */
  readonly seedFiles: { readonly operator: string; readonly systemAccount: string; readonly account: string } | undefined;
}

/** Default lifetime of a cluster's user JWT: 30 days, like client certificates (see docs/nats/README.md). */
export const DEFAULT_NATS_USER_JWT_TTL_SECONDS = 30 * 24 * 3600;

/** Reads FLOTILLA_NATS_OPERATOR and its settings; undefined when it is off. */
function loadNatsOperatorAuth(env: Record<string, string | undefined>, problems: string[]): NatsOperatorAuth | undefined {
  const read = (name: string) => env[name]?.trim() || undefined;
  const flag = read('FLOTILLA_NATS_OPERATOR')?.toLowerCase();
  const seedNames = ['FLOTILLA_NATS_OPERATOR_SEED_FILE', 'FLOTILLA_NATS_SYSTEM_ACCOUNT_SEED_FILE', 'FLOTILLA_NATS_ACCOUNT_SEED_FILE'] as const;
  const dependent = ['FLOTILLA_NATS_USER_JWT_TTL_SECONDS', ...seedNames].filter((name) => read(name) !== undefined);
  if (flag === undefined || ['0', 'false', 'no', 'off'].includes(flag)) {
    if (dependent.length > 0) problems.push(`${dependent.join(', ')} need FLOTILLA_NATS_OPERATOR=true`);
    return undefined;
  }
  if (!['1', 'true', 'yes', 'on'].includes(flag)) {
    problems.push(`FLOTILLA_NATS_OPERATOR must be true or false (got "${env['FLOTILLA_NATS_OPERATOR']?.slice(0, 20)}")`);
    return undefined;
  }
  const ttlText = read('FLOTILLA_NATS_USER_JWT_TTL_SECONDS');
  let userJwtTtlSeconds = DEFAULT_NATS_USER_JWT_TTL_SECONDS;
  if (ttlText !== undefined) {
    const value = Number(ttlText);
    if (!Number.isInteger(value) || value < 5 || value > 30 * 24 * 3600) problems.push(`FLOTILLA_NATS_USER_JWT_TTL_SECONDS must be an integer from 5 to ${30 * 24 * 3600} (got "${ttlText.slice(0, 20)}")`);
    else userJwtTtlSeconds = value;
  }
  const seeds = seedNames.map((name) => read(name));
  const given = seeds.filter((seed) => seed !== undefined).length;
  if (given !== 0 && given !== seeds.length) problems.push(`${seedNames.join(', ')} must be set together (files holding the operator, system account and account seeds)`);
  const [operator, systemAccount, account] = seeds;
  return {
    kind: 'operator',
    userJwtTtlSeconds,
    seedFiles: operator !== undefined && systemAccount !== undefined && account !== undefined ? { operator, systemAccount, account } : undefined,
  };
}

// --- end of NATS decentralized auth ---

/** Settings of the NATS agent link. */
export interface NatsConfig {
  /** Server URLs (`nats://host:port`, `tls://host:port` or `host:port`), tried in order. */
  readonly servers: readonly string[];
  readonly auth: NatsAuth;
  /** JetStream KV bucket of desired state, keyed `<cluster>.<app>`. */
  readonly kvBucket: string;
  /** JetStream stream of agent messages (subjects `reports.<cluster>`). */
  readonly reportsStream: string;
  /** FLOTILLA_NATS_CA_FILE: PEM of the CA(s) the NATS server's certificate is verified with (`tls://` servers). */
  readonly caFile: string | undefined;
}

/** The `connected_replica` value of clusters whose agent talks over NATS (no replica holds a stream). */
export const NATS_PRESENCE = 'nats';

// Bucket and stream names become subject tokens: no dots, wildcards, spaces or path separators.
const JETSTREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads the FLOTILLA_NATS_* variables; undefined when NATS is not enabled. Secrets are never echoed. */
export function loadNatsConfig(env: Record<string, string | undefined>, problems: string[]): NatsConfig | undefined {
  const read = (name: string) => env[name]?.trim() || undefined;
  const url = read('FLOTILLA_NATS_URL');
  const user = read('FLOTILLA_NATS_USER');
  const password = env['FLOTILLA_NATS_PASSWORD'] || undefined;
  const creds = read('FLOTILLA_NATS_CREDS');
  const kvBucket = read('FLOTILLA_NATS_KV_BUCKET') ?? 'flotilla-desired';
  const reportsStream = read('FLOTILLA_NATS_REPORTS_STREAM') ?? 'FLOTILLA_REPORTS';
  if (url === undefined) {
    if (user || password || creds) problems.push('FLOTILLA_NATS_USER, FLOTILLA_NATS_PASSWORD and FLOTILLA_NATS_CREDS need FLOTILLA_NATS_URL');
    if (read('FLOTILLA_NATS_OPERATOR') || read('FLOTILLA_NATS_CA_FILE')) problems.push('FLOTILLA_NATS_OPERATOR and FLOTILLA_NATS_CA_FILE need FLOTILLA_NATS_URL');
    return undefined;
  }
  const servers = parseNatsServers(url, 'FLOTILLA_NATS_URL', problems);
  if (!JETSTREAM_NAME.test(kvBucket)) problems.push(`FLOTILLA_NATS_KV_BUCKET must be 1 to 64 letters, digits, '-' or '_' (got "${kvBucket.slice(0, 80)}")`);
  if (!JETSTREAM_NAME.test(reportsStream)) problems.push(`FLOTILLA_NATS_REPORTS_STREAM must be 1 to 64 letters, digits, '-' or '_' (got "${reportsStream.slice(0, 80)}")`);
  let auth: NatsAuth = { kind: 'none' };
  const operator = loadNatsOperatorAuth(env, problems);
  if (operator && (creds || user || password)) problems.push('FLOTILLA_NATS_OPERATOR=true makes the hub sign its own NATS user: unset FLOTILLA_NATS_CREDS, FLOTILLA_NATS_USER and FLOTILLA_NATS_PASSWORD');
  else if (operator) auth = operator;
  else if (creds && (user || password)) problems.push('FLOTILLA_NATS_CREDS and FLOTILLA_NATS_USER/FLOTILLA_NATS_PASSWORD are exclusive: set one');
  else if (creds) auth = { kind: 'creds', file: creds };
  else if (user && password) auth = { kind: 'password', user, password };
  else if (user || password) problems.push('FLOTILLA_NATS_USER and FLOTILLA_NATS_PASSWORD must be set together');
  return { servers, auth, kvBucket, reportsStream, caFile: read('FLOTILLA_NATS_CA_FILE') };
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
