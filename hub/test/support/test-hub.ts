import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadHubConfig } from '../../src/config/hub-config';
import { startHub, type RunningHub } from '../../src/hub';
import { TEST_ADMIN_TOKEN } from './admin-token';
import { graphqlClient } from './graphql-client';
import { TestNatsServer } from './nats-server';
import { createTestDatabase, type TestDatabase } from './test-database';

/** The GraphQL client of a test, as {@link graphqlClient} returns it. */
export type Gql = ReturnType<typeof graphqlClient>;

/** A hub of a test file on its own database, with a fleet-admin GraphQL client. */
export interface TestHub {
  readonly db: TestDatabase;
  readonly hub: RunningHub;
  readonly gql: Gql;
}

/**
 * Creates a private database and starts a hub on it: free HTTP and gRPC ports, error logs only, the
 * bootstrap admin token {@link TEST_ADMIN_TOKEN}, plus `env` (which wins). The caller stops the hub and
 * drops the database; when the hub fails to start, the database is dropped here and the error rethrown.
 */
export async function startTestHub(env: Record<string, string> = {}): Promise<TestHub> {
  const db = await createTestDatabase();
  try {
    const hub = await startHub(
      loadHubConfig({
        DATABASE_URL: db.url,
        PORT: '0',
        FLOTILLA_GRPC_PORT: '0',
        FLOTILLA_LOG_LEVEL: 'error',
        FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        ...env,
      }),
    );
    return { db, hub, gql: graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN) };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

/** A {@link TestHub} whose agents link over gRPC, or over NATS through a private nats-server. */
export interface TransportTestHub extends TestHub {
  /** The nats-server the hub and the test share; undefined over gRPC. */
  readonly nats: TestNatsServer | undefined;
  /** A client of that server for the test, playing the agents' side; undefined over gRPC. */
  readonly natsClient: NatsConnection | undefined;
}

/**
 * {@link startTestHub} for one agent-link transport: over `nats`, first a JetStream nats-server with no
 * config (FLOTILLA_NATS_URL points the hub at it) and a client of it. The caller closes the client and
 * stops the server after the hub; when a start fails, what was started here is stopped and the error rethrown.
 */
export async function startTestHubOver(transport: 'grpc' | 'nats', env: Record<string, string> = {}): Promise<TransportTestHub> {
  if (transport === 'grpc') return { ...(await startTestHub(env)), nats: undefined, natsClient: undefined };
  const nats = await TestNatsServer.start();
  let natsClient: NatsConnection | undefined;
  try {
    natsClient = await connect({ servers: nats.url });
    return { ...(await startTestHub({ ...env, FLOTILLA_NATS_URL: nats.url })), nats, natsClient };
  } catch (error) {
    await natsClient?.close();
    await nats.stop();
    throw error;
  }
}
