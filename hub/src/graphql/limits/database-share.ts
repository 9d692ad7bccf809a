import { AsyncLocalStorage } from 'node:async_hooks';
import type { GraphqlDatabaseShareConfig } from '../../config/graphql-limits-config';
import { FlotillaError } from '../../errors';

/** A counting semaphore with a bounded FIFO queue and per-wait deadlines. */
export class Semaphore {
  private readonly waiting: { grant: () => void; timer: NodeJS.Timeout | undefined }[] = [];

  constructor(
    private available: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * Resolves with a release function once a permit is free, or rejects (UNAVAILABLE) when
   * `maxWaiting` others already wait or when `deadline` (epoch ms) passes first.
   */
  acquire(deadline: number, what: string): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new FlotillaError('UNAVAILABLE', `Too many requests wait for ${what}; try again shortly.`, 1000));
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => resolve(this.releaser()),
        timer: undefined as NodeJS.Timeout | undefined,
      };
      entry.timer = setTimeout(
        () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new FlotillaError('UNAVAILABLE', `The request ran out of time waiting for ${what}.`, 1000));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant();
      } else {
        this.available += 1;
      }
    };
  }
}

/** The database share of one GraphQL request. */
interface RequestShare {
  readonly deadline: number;
  readonly own: Semaphore;
}

type PoolCallback = (error: Error | undefined, client?: PoolClient, release?: (error?: unknown) => void) => void;
interface PoolClient {
  release: (error?: unknown) => void;
  query(text: string, callback: (error: Error | undefined) => void): void;
}
/** The part of pg's Pool used here. */
export interface ConnectablePool {
  connect(callback?: PoolCallback): unknown;
  readonly options?: { readonly max?: number };
}

/** Most connection requests one GraphQL request may queue behind its own permits. */
const MAX_WAITING_PER_REQUEST = 10_000;

/**
 * Bounds what GraphQL requests take from the database pool, so that the agent link, the outbox relay
 * and the rollout engine always find a connection (RELIABILITY.md row 13: "other clients unaffected").
 *
 * Design: each HTTP GraphQL request runs inside an AsyncLocalStorage scope (see {@link run}). The pool's
 * `connect` is wrapped: a connection requested inside a scope first takes a permit of the request's own
 * semaphore (`connectionsPerRequest`), then one of the GraphQL-wide semaphore (`connections`, by default
 * the pool size less a third, at least 1), and gives both back when the connection is released. So at
 * most that many GraphQL connection requests are ever inside the pool (held or queued there), and the
 * rest wait here, FIFO, bounded by `queue` and by the request's deadline (`requestTimeoutMs`), then
 * fail with UNAVAILABLE instead of piling up in the pool's own queue in front of the agent link.
 * With the embedded database (a pool of one connection) GraphQL can have at most one request in the
 * pool's queue, so an agent-link query waits for at most one GraphQL statement, itself bounded by the
 * statement timeout. A connection handed to a GraphQL request gets `statement_timeout`; one handed to
 * anyone else afterwards gets the server default back.
 */
export class DatabaseShare {
  private readonly storage = new AsyncLocalStorage<RequestShare>();
  private readonly shared: Semaphore;
  /** Connections whose session currently carries the GraphQL statement timeout. */
  private readonly timed = new WeakSet<object>();
  readonly connections: number;

  constructor(
    private readonly config: GraphqlDatabaseShareConfig,
    poolSize: number,
  ) {
    this.connections = config.connections ?? Math.max(1, poolSize - Math.ceil(poolSize / 3));
    this.shared = new Semaphore(this.connections, config.queue);
  }

  /** Runs `fn` (and everything it starts) as one GraphQL request, starting its deadline now. */
  run<T>(fn: () => T): T {
    return this.storage.run({ deadline: Date.now() + this.config.requestTimeoutMs, own: new Semaphore(this.config.connectionsPerRequest, MAX_WAITING_PER_REQUEST) }, fn);
  }

  /** Wraps `pool.connect` (callback and promise forms) as described on the class. */
  wrap(pool: ConnectablePool): void {
    const original = pool.connect.bind(pool) as (callback: PoolCallback) => void;
    const connect = (callback: PoolCallback): void => {
      const share = this.storage.getStore();
      if (!share) {
        original((error, client, release) => {
          if (error || !client || !this.timed.has(client)) return callback(error, client, release);
          this.timed.delete(client);
          client.query('SET statement_timeout TO DEFAULT', (setError) => {
            if (setError) {
              client.release(setError);
              return callback(setError);
            }
            callback(undefined, client, client.release);
          });
        });
        return;
      }
      void this.acquire(share).then(
        (releasePermits) =>
          original((error, client) => {
            if (error || !client) {
              releasePermits();
              return callback(error);
            }
            const releaseClient = client.release;
            const release = (releaseError?: unknown) => {
              releasePermits();
              releaseClient(releaseError);
            };
            client.release = release;
            if (this.timed.has(client)) return callback(undefined, client, release);
            client.query(`SET statement_timeout = ${Math.floor(this.config.statementTimeoutMs)}`, (setError) => {
              if (setError) {
                release(setError);
                return callback(setError);
              }
              this.timed.add(client);
              callback(undefined, client, release);
            });
          }),
        (error: Error) => callback(error),
      );
    };
    pool.connect = (callback?: PoolCallback) => {
      if (callback) return connect(callback);
      return new Promise((resolve, reject) => connect((error, client) => (error ? reject(error) : resolve(client))));
    };
  }

  private async acquire(share: RequestShare): Promise<() => void> {
    if (Date.now() >= share.deadline) throw new FlotillaError('UNAVAILABLE', `The request took longer than ${this.config.requestTimeoutMs} ms.`, 1000);
    const own = await share.own.acquire(share.deadline, 'its database connections');
    try {
      const shared = await this.shared.acquire(share.deadline, 'a database connection');
      return () => {
        shared();
        own();
      };
    } catch (error) {
      own();
      throw error;
    }
  }
}
