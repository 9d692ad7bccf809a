import { Algorithms, encodeAccount, encodeOperator, encodeUser } from '@nats-io/jwt';
import { createUser, fromPublic, type KeyPair } from '@nats-io/nkeys';
import { connect, jwtAuthenticator, type ConnectionOptions, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, IsNull, MoreThan, Not } from 'typeorm';
import { Clock } from '../clock';
import { ClustersService } from '../clusters/clusters.service';
import { HUB_CONFIG, type HubConfig, type NatsConfig, type NatsOperatorAuth } from '../config/hub-config';
import {
  ENROLL_SUBJECT_PREFIX,
  RENEW_SUBJECT_PREFIX,
  clusterOfRequestSubject,
  clusterUserPermissions,
  enrollmentUserPermissions,
  hubUserPermissions,
  type SubjectPermissions,
} from '../core/nats-auth/permissions';
import { activeRevocations } from '../core/nats-auth/revocations';
import { renderOperatorServerConfig } from '../core/nats-auth/server-config';
import { FlotillaError } from '../errors';
import { AgentLinkCa } from '../trust/agent-link-ca.service';
import { loadOrCreateSigningKeys, readSeedFiles, resolveEncryptionKey, type NatsSigningKeys } from './nats-signing-keys';
import { NatsUserEntity } from './nats-user.entity';

/** Name of the account agents and the hub live in, and of the system account, in the JWTs. */
const ACCOUNT_NAME = 'flotilla';
const SYSTEM_ACCOUNT_NAME = 'SYS';
/** Every limit explicit: a JWT account without them refuses connections and JetStream. */
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
const JETSTREAM_UNLIMITED = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
/** Enrollment requests are small; the shared enrollment user can do little else. */
const ENROLLMENT_LIMITS = { subs: 4, data: -1, payload: 8 * 1024 };

/** What an agent receives: its user JWT, or why not (never which check failed). */
export type CredentialReply = { readonly jwt: string } | { readonly error: string; readonly message: string };

/** NATS credentials the hub uses itself: a user JWT and the seed that signs its connect nonce (in memory only). */
export interface HubNatsCredentials {
  readonly jwt: string;
  readonly seed: Uint8Array;
}

/**
 * The hub as NATS operator (FLOTILLA_NATS_OPERATOR=true): keeps the operator and account signing keys,
 * signs each cluster's user JWT when its agent enrolls with the one-time bootstrap token (the agent
 * sends only its public key; the seed stays in the cluster) and again when it renews, and revokes a
 * cluster's users through the account's revocation list, pushed to the running server as an account
 * update. The JWT's permissions come from the cluster in the subject the request arrived on, never
 * from the request's content.
 */
@Injectable()
export class NatsTrust {
  private readonly log = new Logger('NatsTrust');
  private keys: Promise<NatsSigningKeys> | undefined;
  private hubCredentials: Promise<HubNatsCredentials> | undefined;

  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly clock: Clock,
    private readonly clusters: ClustersService,
    private readonly ca: AgentLinkCa,
  ) {}

  /** Operator-mode settings, or undefined when the hub is not the NATS operator. */
  get operatorAuth(): NatsOperatorAuth | undefined {
    const auth = this.config.nats?.auth;
    return auth?.kind === 'operator' ? auth : undefined;
  }

  /** The signing keys, loaded once per process (generated on the first start against a database). */
  signingKeys(): Promise<NatsSigningKeys> {
    this.keys ??= this.loadKeys();
    return this.keys;
  }

  /** The nats-server configuration fragment for operator mode (docs/nats/operator.conf). */
  async serverConfig(): Promise<string> {
    const keys = await this.signingKeys();
    const now = this.clock.now();
    return renderOperatorServerConfig({
      operatorJwt: await this.operatorJwt(keys),
      systemAccountPublicKey: keys.systemAccount.getPublicKey(),
      accounts: [
        { name: SYSTEM_ACCOUNT_NAME, publicKey: keys.systemAccount.getPublicKey(), jwt: await this.systemAccountJwt(keys) },
        { name: ACCOUNT_NAME, publicKey: keys.account.getPublicKey(), jwt: await this.accountJwt(keys, now) },
      ],
    });
  }

  /** The hub's own user in the account (full hub permissions), signed once per process; the seed never leaves memory. */
  hubUser(): Promise<HubNatsCredentials> {
    this.hubCredentials ??= (async () => {
      const keys = await this.signingKeys();
      const user = createUser();
      const jwt = await encodeUser(`flotilla-hub ${this.config.replicaId}`, user, keys.account, { ...userClaims(hubUserPermissions(this.natsConfig().kvBucket)), resp: { max: 1, ttl: 0 } }, { algorithm: Algorithms.v2 });
      return { jwt, seed: user.getSeed() };
    })();
    return this.hubCredentials;
  }

  /**
   * A bearer JWT for the shared enrollment user: it may only publish enrollment requests and read
   * their answers. Valid as long as a bootstrap token issued now, which is what it is handed out with.
   */
  async enrollmentJwt(): Promise<string> {
    const keys = await this.signingKeys();
    const now = this.clock.now();
    const exp = Math.floor(now.getTime() / 1000) + this.config.bootstrapTokenTtlSeconds;
    return encodeUser('flotilla-enrollment', createUser(), keys.account, { ...userClaims(enrollmentUserPermissions()), ...ENROLLMENT_LIMITS, bearer_token: true }, { exp, algorithm: Algorithms.v2 });
  }

  /**
   * Exchanges a one-time bootstrap token of `cluster` and the agent's user public key for a user JWT
   * with that cluster's permissions. The token is consumed: a second use, an expired token or a token
   * of another cluster is refused with the same answer. A re-install (issueBootstrapToken for a
   * cluster whose agent is enrolled) ends here for the old agent: the users the cluster held under
   * other keys are revoked before the new JWT is handed out, as its gRPC credentials are.
   */
  async enroll(cluster: string, request: unknown, now: Date): Promise<CredentialReply> {
    const body = asRecord(request);
    const publicKey = userPublicKey(body['publicKey']);
    const token = typeof body['token'] === 'string' ? body['token'] : '';
    if (!publicKey) return { error: 'INVALID_ARGUMENT', message: 'publicKey must be a NATS user public key' };
    try {
      await this.clusters.redeemBootstrapToken(token, cluster, now);
    } catch (error) {
      if (error instanceof FlotillaError) return { error: error.code, message: 'The bootstrap token is not valid for this cluster.' };
      throw error;
    }
    const replaced = await this.revokeUsers(cluster, now, publicKey);
    const jwt = await this.issue(cluster, publicKey);
    this.log.log(`cluster ${cluster} enrolled on NATS (user ${publicKey.slice(0, 12)}…)${replaced > 0 ? `; revoked the ${replaced} NATS user JWT(s) it held before` : ''}`);
    if (replaced > 0) await this.pushAccountOrWarn();
    return { jwt };
  }

  /**
   * Signs a fresh JWT for a key the cluster already holds. The request arrives on a subject only that
   * cluster's user may publish to, so it comes from that cluster; the key must be one the hub issued
   * to it and not revoked, and the cluster must still be registered.
   */
  async renew(cluster: string, request: unknown, now: Date): Promise<CredentialReply> {
    const denied: CredentialReply = { error: 'UNAUTHENTICATED', message: 'This NATS user cannot be renewed.' };
    const publicKey = userPublicKey(asRecord(request)['publicKey']);
    if (!publicKey || !(await this.clusters.isRegistered(cluster))) return denied;
    const users = this.db.getRepository(NatsUserEntity);
    const held = await users.findOneBy({ clusterName: cluster, publicKey, revokedAt: IsNull(), expiresAt: MoreThan(now) });
    if (!held) return denied;
    const jwt = await this.issue(cluster, publicKey);
    // A revocation that committed between the check above and the new row did not cover that row:
    // look again, and withdraw the new JWT rather than hand out one the revocation list misses.
    if (!(await users.existsBy({ id: held.id, revokedAt: IsNull() }))) {
      await users.update({ clusterName: cluster, publicKey, revokedAt: IsNull() }, { revokedAt: now });
      return denied;
    }
    this.log.log(`renewed the NATS user JWT of cluster ${cluster} (user ${publicKey.slice(0, 12)}…)`);
    return { jwt };
  }

  /**
   * Revokes every NATS user of `cluster` (deregistration, or a lost agent): their JWTs go on the
   * account's revocation list, and the updated account JWT is pushed to the server, which then drops
   * their connections and refuses them. The database change stands even when the push fails; the next
   * push (every hub connect) carries it. Returns how many users were revoked.
   */
  async revokeAgentCredentials(cluster: string): Promise<number> {
    const revoked = await this.revokeUsers(cluster, this.clock.now());
    if (revoked > 0) this.log.log(`revoked ${revoked} NATS user JWT(s) of cluster ${cluster}`);
    await this.pushAccountOrWarn();
    return revoked;
  }

  /** Marks the live users of `cluster` revoked (all, or all but the key `except`); returns how many. */
  private async revokeUsers(cluster: string, now: Date, except?: string): Promise<number> {
    const result = await this.db
      .getRepository(NatsUserEntity)
      .update({ clusterName: cluster, revokedAt: IsNull(), expiresAt: MoreThan(now), ...(except !== undefined ? { publicKey: Not(except) } : {}) }, { revokedAt: now });
    return result.affected ?? 0;
  }

  private pushAccountOrWarn(): Promise<void> {
    return this.pushAccount().catch((error: unknown) => this.log.warn(`pushing the account update (revocations) to NATS failed: ${describe(error)}; it is retried at the next hub connect`));
  }

  /**
   * Sends the current account JWT (its revocation list included) to the server through the system
   * account: `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE` (memory resolver), else `$SYS.REQ.CLAIMS.UPDATE`
   * (full resolver). A server restarted with a memory resolver has forgotten earlier updates, which is
   * why the hub pushes at every connect.
   */
  async pushAccount(): Promise<void> {
    const keys = await this.signingKeys();
    const jwt = await this.accountJwt(keys, this.clock.now());
    const system = createUser();
    const systemJwt = await encodeUser('flotilla-hub-system', system, keys.systemAccount, {}, { algorithm: Algorithms.v2 });
    const connection = await connect({ ...this.connectionOptions(), authenticator: jwtAuthenticator(systemJwt, system.getSeed()), name: 'flotilla-hub system', reconnect: false, timeout: 5000 });
    try {
      const subjects = [`$SYS.REQ.ACCOUNT.${keys.account.getPublicKey()}.CLAIMS.UPDATE`, '$SYS.REQ.CLAIMS.UPDATE'];
      let lastError: unknown;
      for (const subject of subjects) {
        try {
          const reply = await connection.request(subject, new TextEncoder().encode(jwt), { timeout: 5000 });
          const answer = asRecord(parseJson(reply.data));
          if (answer['error'] !== undefined) throw new Error(`the server refused the account update: ${JSON.stringify(answer['error']).slice(0, 200)}`);
          return;
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /**
   * Answers enrollment and renewal requests on `connection` (the hub's own, in a queue group so that
   * one replica answers each). Returns the subscriptions; they end with the connection.
   */
  serve(connection: NatsConnection): Subscription[] {
    const answer = (prefix: string, handle: (cluster: string, request: unknown, now: Date) => Promise<CredentialReply>) =>
      connection.subscribe(`${prefix}.*`, {
        queue: 'flotilla-hub',
        callback: (error, message: Msg) => {
          if (error) return;
          const cluster = clusterOfRequestSubject(message.subject, prefix);
          const reply = cluster === undefined ? Promise.resolve<CredentialReply>({ error: 'INVALID_ARGUMENT', message: 'unknown cluster subject' }) : handle(cluster, parseJson(message.data), this.clock.now());
          void reply
            .catch((failure: unknown): CredentialReply => {
              this.log.warn(`${prefix} request of ${cluster ?? '?'} failed: ${describe(failure)}`);
              return { error: 'UNAVAILABLE', message: 'The hub could not answer; retry later.' };
            })
            .then((body) => message.respond(new TextEncoder().encode(JSON.stringify(body))));
        },
      });
    return [answer(ENROLL_SUBJECT_PREFIX, (c, r, n) => this.enroll(c, r, n)), answer(RENEW_SUBJECT_PREFIX, (c, r, n) => this.renew(c, r, n))];
  }

  /** Server URLs and TLS settings shared by every connection of the hub. */
  connectionOptions(): Pick<ConnectionOptions, 'servers' | 'tls'> {
    const nats = this.natsConfig();
    return { servers: [...nats.servers], ...(nats.caFile ? { tls: { caFile: nats.caFile } } : {}) };
  }

  /**
   * Signs a user JWT for `publicKey` with the cluster's permissions, then records it, before it is
   * handed out. Signed first: a revocation that marks the row is dated no earlier than the JWT's
   * `iat`, so the account's revocation list (which refuses JWTs issued at or before that second)
   * covers it. The row keeps the JWT's own `exp`, so its revocation entry lasts as long as the JWT.
   */
  private async issue(cluster: string, publicKey: string): Promise<string> {
    const keys = await this.signingKeys();
    const ttl = this.operatorAuth?.userJwtTtlSeconds ?? 0;
    const claims = userClaims(clusterUserPermissions(cluster, this.natsConfig().kvBucket));
    const signed = await signWithLifetime((exp) => encodeUser(cluster, fromPublic(publicKey), keys.account, claims, { exp, algorithm: Algorithms.v2 }), ttl);
    await this.db.getRepository(NatsUserEntity).insert({ clusterName: cluster, publicKey, issuedAt: new Date(signed.iat * 1000), expiresAt: new Date(signed.exp * 1000), revokedAt: null });
    return signed.jwt;
  }

  private operatorJwt(keys: NatsSigningKeys): Promise<string> {
    return encodeOperator('flotilla', keys.operator, { system_account: keys.systemAccount.getPublicKey() }, { algorithm: Algorithms.v2 });
  }

  private systemAccountJwt(keys: NatsSigningKeys): Promise<string> {
    return encodeAccount(SYSTEM_ACCOUNT_NAME, keys.systemAccount, { limits: { ...UNLIMITED } }, { signer: keys.operator, algorithm: Algorithms.v2 });
  }

  private async accountJwt(keys: NatsSigningKeys, now: Date): Promise<string> {
    const users = await this.db.getRepository(NatsUserEntity).find({ where: { revokedAt: Not(IsNull()), expiresAt: MoreThan(now) } });
    const revocations = activeRevocations(users, now);
    return encodeAccount(ACCOUNT_NAME, keys.account, { limits: { ...UNLIMITED, ...JETSTREAM_UNLIMITED }, revocations }, { signer: keys.operator, algorithm: Algorithms.v2 });
  }

  private async loadKeys(): Promise<NatsSigningKeys> {
    const files = this.operatorAuth?.seedFiles;
    if (files) return readSeedFiles(files);
    // The agent-link CA makes (or finds) the shared encryption key; the NATS seeds are sealed with it too.
    await this.ca.ensure();
    const keys = await loadOrCreateSigningKeys(this.db, resolveEncryptionKey(this.config.agentLinkTls.caEncryptionKey, this.config.dataDir));
    this.log.log(`NATS operator ${keys.operator.getPublicKey().slice(0, 12)}…, account ${keys.account.getPublicKey().slice(0, 12)}…`);
    return keys;
  }

  private natsConfig(): NatsConfig {
    const nats = this.config.nats;
    if (!nats) throw new FlotillaError('FAILED_PRECONDITION', 'The NATS agent link is not configured (FLOTILLA_NATS_URL).');
    return nats;
  }
}

/**
 * Signs with `exp` = the JWT's own `iat` + `ttlSeconds`. The JWT library stamps `iat` from the system
 * clock as it signs, so the expiry is computed from that clock too, and signed again in the rare case
 * that a second boundary fell in between (three tries at most; then the lifetime is a second short).
 */
async function signWithLifetime(sign: (exp: number) => Promise<string>, ttlSeconds: number): Promise<{ jwt: string; iat: number; exp: number }> {
  let signed = { jwt: '', iat: 0, exp: 0 };
  for (let attempt = 0; attempt < 3; attempt++) {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + ttlSeconds;
    const jwt = await sign(exp);
    signed = { jwt, iat: issuedAtOf(jwt) ?? iat, exp };
    if (signed.iat === iat) return signed;
  }
  return signed;
}

/** The `iat` claim of a JWT we just signed. */
function issuedAtOf(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  const iat: unknown = asRecord(parseJson(Buffer.from(payload, 'base64url')))['iat'];
  return typeof iat === 'number' ? iat : undefined;
}

function userClaims(permissions: SubjectPermissions): { pub: { allow: string[] }; sub: { allow: string[] } } {
  return { pub: { allow: [...permissions.pub.allow] }, sub: { allow: [...permissions.sub.allow] } };
}

/** The value when it is a valid NATS user public key (`U…`), else undefined. */
function userPublicKey(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('U') || value.length !== 56) return undefined;
  try {
    return (fromPublic(value) as KeyPair).getPublicKey();
  } catch {
    return undefined;
  }
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
