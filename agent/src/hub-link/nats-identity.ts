import { createUser, fromSeed } from '@nats-io/nkeys';
import { connect, jwtAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { StateStore } from '../cache/state-store.js';
import type { Clock } from '../clock.js';
import { isUserJwtUsable, userJwtTimes } from '../core/nats-user-jwt.js';
import type { Logger } from '../log.js';

/** The agent's NATS identity: the user seed (made here, never sent anywhere) and the JWT the hub signed for it. */
export interface NatsUserIdentity {
  readonly seed: string;
  readonly jwt: string;
}

/** Settings of {@link NatsIdentity}. */
export interface NatsIdentityOptions {
  readonly clusterName: string;
  /** The shared enrollment user's bearer JWT (FLOTILLA_NATS_ENROLLMENT_JWT). */
  readonly enrollmentJwt: string;
  /** The one-time bootstrap token; only needed while no identity is stored. */
  readonly bootstrapToken: string | undefined;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Servers and TLS, as every connection of the agent uses them. */
  readonly connection: Pick<ConnectionOptions, 'servers' | 'tls'>;
  readonly requestTimeoutMs?: number;
}

/** Why enrollment or renewal did not produce a JWT. */
export class NatsIdentityError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'NatsIdentityError';
  }
}

/**
 * Holds the agent's NATS user identity in its state store (`nats-identity`, next to the credential):
 * enrolls once with the bootstrap token as the shared enrollment user, then renews the JWT over its
 * own connection. A fresh nkey is made for every enrollment; the seed is stored before the public key
 * is sent, so a crash cannot leave the hub with a key the agent lost. Never logs the seed or the token.
 */
export class NatsIdentity {
  readonly #options: NatsIdentityOptions;
  #current: NatsUserIdentity | undefined;

  constructor(options: NatsIdentityOptions) {
    this.#options = options;
  }

  /** The identity in use (after {@link ensure}). */
  get current(): NatsUserIdentity | undefined {
    return this.#current;
  }

  /** Reads the stored identity; true when one is stored (whether or not its JWT is still valid). */
  async load(): Promise<boolean> {
    const text = await this.#options.store.read('nats-identity');
    if (text === undefined) return false;
    try {
      const parsed = JSON.parse(text) as Partial<NatsUserIdentity>;
      if (typeof parsed.seed === 'string' && typeof parsed.jwt === 'string') this.#current = { seed: parsed.seed, jwt: parsed.jwt };
    } catch {
      this.#options.log.warn('the stored NATS identity is unreadable; enrolling again needs a bootstrap token');
    }
    return this.#current !== undefined;
  }

  /** A usable identity: the stored one while its JWT is valid, else a new enrollment with the bootstrap token. */
  async ensure(): Promise<NatsUserIdentity> {
    if (this.#current === undefined) await this.load();
    const current = this.#current;
    if (current !== undefined && current.jwt !== '' && isUserJwtUsable(userJwtTimes(current.jwt), this.#options.clock.now())) return current;
    return this.#enroll();
  }

  /**
   * Asks the hub for a fresh JWT over `connection` (authenticated by the current one, on a subject
   * only this cluster's user may publish to) and stores it. Throws {@link NatsIdentityError}.
   */
  async renew(connection: NatsConnection): Promise<NatsUserIdentity> {
    const current = this.#current;
    if (current === undefined) throw new NatsIdentityError('no NATS identity to renew', false);
    const publicKey = fromSeed(new TextEncoder().encode(current.seed)).getPublicKey();
    const jwt = await this.#ask(connection, `flotilla.renew.${this.#options.clusterName}`, { publicKey });
    return this.#save({ seed: current.seed, jwt });
  }

  async #enroll(): Promise<NatsUserIdentity> {
    const { bootstrapToken, clusterName, enrollmentJwt, log } = this.#options;
    if (bootstrapToken === undefined) throw new NatsIdentityError('the NATS user JWT has expired and no bootstrap token is set: issue one (newBootstrapToken) and set FLOTILLA_BOOTSTRAP_TOKEN', false);
    const user = createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    // Stored first with no JWT: the seed survives a crash between the request and the answer.
    await this.#save({ seed, jwt: '' });
    const connection = await connect({ ...this.#options.connection, authenticator: jwtAuthenticator(enrollmentJwt), inboxPrefix: '_INBOX_enroll', name: `flotilla-agent ${clusterName} enrollment`, reconnect: false, timeout: 5000 });
    try {
      const jwt = await this.#ask(connection, `flotilla.enroll.${clusterName}`, { token: bootstrapToken, publicKey: user.getPublicKey() });
      log.info('enrolled this cluster on NATS', { cluster: clusterName });
      return await this.#save({ seed, jwt });
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  async #ask(connection: NatsConnection, subject: string, body: object): Promise<string> {
    let reply: unknown;
    try {
      const message = await connection.request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: this.#options.requestTimeoutMs ?? 10_000 });
      reply = JSON.parse(new TextDecoder().decode(message.data));
    } catch (error) {
      throw new NatsIdentityError(`the hub did not answer on ${subject}: ${error instanceof Error ? error.message : String(error)}`, true);
    }
    const answer = (reply ?? {}) as { jwt?: unknown; error?: unknown; message?: unknown };
    if (typeof answer.jwt === 'string') return answer.jwt;
    const code = typeof answer.error === 'string' ? answer.error : 'UNKNOWN';
    throw new NatsIdentityError(`the hub refused (${code}): ${typeof answer.message === 'string' ? answer.message.slice(0, 256) : ''}`, code === 'UNAVAILABLE');
  }

  async #save(identity: NatsUserIdentity): Promise<NatsUserIdentity> {
    await this.#options.store.write('nats-identity', `${JSON.stringify(identity)}\n`);
    this.#current = identity;
    return identity;
  }
}
