import { AGENT_ENV } from './agent-env.js';
import { DNS_NAME, quote, type RaiseIssue, type ReadVariable } from './config-reading.js';
import { readHubTls, type HubTlsConfig } from './hub-tls-config.js';

/**
 * The hub link settings of the agent configuration (FLOTILLA_TRANSPORT and the gRPC or NATS variables
 * it selects), read by {@link readTransport} as part of `loadAgentConfig`.
 */

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

/** Defaults applied when a transport variable is unset or empty (part of `CONFIG_DEFAULTS`). */
export const TRANSPORT_DEFAULTS = {
  transport: 'grpc',
  natsKvBucket: 'flotilla-desired',
} as const;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const BRACKETED_IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
// A KV bucket name becomes a subject token: no dots, wildcards, spaces or path separators.
const BUCKET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The transport and its settings; undefined when a required setting is missing or invalid. Never
 * throws: each problem is raised through `issue`, and no message echoes a password or a JWT.
 */
export function readTransport(read: ReadVariable, issue: RaiseIssue): TransportConfig | undefined {
  const kind = read(AGENT_ENV.transport) ?? TRANSPORT_DEFAULTS.transport;
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
  const kvBucket = read(AGENT_ENV.natsKvBucket) ?? TRANSPORT_DEFAULTS.natsKvBucket;
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
