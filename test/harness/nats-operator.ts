import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionViolationError, connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { TEST_CA_ENCRYPTION_KEY } from './auth.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { NatsServerProcess } from './nats.js';
import { HUB_MAIN, startHub, type HubProcess, type ManagedProcess } from './processes.js';

/** What `node hub/dist/main.js` prints for NATS decentralized auth. */
export type HubNatsPrintout = 'server-config' | 'enrollment-jwt';

const PRINT_FLAGS: Record<HubNatsPrintout, string> = {
  'server-config': '--print-nats-config',
  'enrollment-jwt': '--print-nats-enrollment-jwt',
};

/**
 * Runs `node hub/dist/main.js --print-nats-config` (or `--print-nats-enrollment-jwt`) with `env` on
 * top of this process's environment and returns its stdout. Killed and rejected after `timeoutMs`, and
 * rejected with its stderr when it exits non-zero.
 */
export function printHubNats(what: HubNatsPrintout, env: Record<string, string>, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HUB_MAIN, PRINT_FLAGS[what]], { env: { ...(process.env as Record<string, string>), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new Error(`hub ${PRINT_FLAGS[what]} exited (code ${code}, signal ${signal}):\n${Buffer.concat(stderr).toString('utf8').slice(-2000)}`));
    });
  });
}

/** A nats-server in operator mode and the folder holding its configuration. */
export interface OperatorNatsServer {
  readonly server: NatsServerProcess;
  /** Stops the server and removes its store and configuration. */
  dispose(): Promise<void>;
}

/**
 * Starts a private nats-server (JetStream, free loopback port) with `configText`, as the hub printed it
 * (`--print-nats-config`). The file outlives restarts of the server; `dispose` removes it.
 */
export async function startOperatorNatsServer(configText: string): Promise<OperatorNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-nats-operator-'));
  const config = join(dir, 'operator.conf');
  writeFileSync(config, configText);
  try {
    const server = await NatsServerProcess.start({ config });
    return {
      server,
      dispose: async () => {
        await server.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One JSON log line of an agent (`msg` and its fields). */
export type AgentLogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

/**
 * Appends every JSON line `process` writes to stdout from now on, parsed, to `lines` (the process keeps
 * only its last 200 lines for failure messages; counting needs them all), and returns it. Lines split
 * across chunks are joined first; lines that are not JSON are skipped.
 */
export function recordJsonLines(process: ManagedProcess, lines: AgentLogLine[] = []): AgentLogLine[] {
  let partial = '';
  process.child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      try {
        const parsed: unknown = JSON.parse(part);
        if (parsed !== null && typeof parsed === 'object') lines.push(parsed as AgentLogLine);
      } catch {
        // Not a log line of ours.
      }
    }
  });
  return lines;
}

/**
 * Hub replicas as NATS operator over one PostgreSQL database and one operator-mode nats-server, whose
 * configuration the hub printed from that database before any replica ran (as an operator makes it).
 */
export interface OperatorHubs {
  readonly db: TestDatabase;
  readonly nats: OperatorNatsServer;
  readonly hubs: HubProcess[];
  /** Every output line of each replica (same index as `hubs`), in order; the process keeps only its last 200. */
  readonly hubLines: string[][];
  /** Stops the replicas and the server, drops the database and removes the folders. */
  dispose(): Promise<void>;
}

export interface OperatorHubsOptions {
  readonly replicas: number;
  /** Hub environment on top of the NATS operator settings (e.g. FLOTILLA_NATS_USER_JWT_TTL_SECONDS). */
  readonly env?: Record<string, string>;
}

/**
 * Creates a database, prints the operator-mode server configuration from it, starts the server, then
 * the replicas (`hub-a`, `hub-b`, ...): the first alone, since it migrates, the others together.
 */
export async function startOperatorHubs({ replicas, env = {} }: OperatorHubsOptions): Promise<OperatorHubs> {
  const db = await createTestDatabase();
  const printDir = mkdtempSync(join(tmpdir(), 'flotilla-hub-print-'));
  const hubs: HubProcess[] = [];
  const hubLines: string[][] = [];
  let nats: OperatorNatsServer | undefined;
  const dispose = async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await nats?.dispose();
    await db.drop();
    rmSync(printDir, { recursive: true, force: true });
  };
  try {
    const operatorEnv = { FLOTILLA_NATS_OPERATOR: 'true', ...env };
    const printed = await printHubNats('server-config', { ...operatorEnv, DATABASE_URL: db.url, FLOTILLA_DATA_DIR: printDir, FLOTILLA_CA_ENCRYPTION_KEY: TEST_CA_ENCRYPTION_KEY, FLOTILLA_NATS_URL: 'nats://127.0.0.1:1' });
    nats = await startOperatorNatsServer(printed);
    const server = nats.server;
    const start = async (replicaId: string) => {
      const hub = await startHub({ databaseUrl: db.url, env: { ...operatorEnv, FLOTILLA_NATS_URL: server.url, FLOTILLA_REPLICA_ID: replicaId } });
      const lines: string[] = [...hub.output];
      recordLines(hub, lines);
      return { hub, lines };
    };
    const ids = ['hub-a', 'hub-b', 'hub-c', 'hub-d', 'hub-e'].slice(0, replicas);
    const started = [await start(ids[0]!), ...(await Promise.all(ids.slice(1).map(start)))];
    for (const { hub, lines } of started) {
      hubs.push(hub);
      hubLines.push(lines);
    }
    return { db, nats, hubs, hubLines, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Appends every line `process` writes (stdout and stderr) from now on to `lines`. */
function recordLines(process: ManagedProcess, lines: string[]): void {
  for (const stream of [process.child.stdout, process.child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((line) => line !== ''));
    });
  }
}

/** A NATS user identity as the agent stores it (`nats-identity.json`): its seed and the JWT the hub signed. */
export interface NatsUserIdentity {
  readonly seed: string;
  readonly jwt: string;
}

/** A permission the server refused on a connection: what was tried on which subject. */
export interface RefusedPermission {
  readonly operation: string;
  readonly subject: string;
}

/** A connection as some NATS user, with the permission violations the server reported on it so far. */
export interface UserConnection {
  readonly connection: NatsConnection;
  readonly refused: RefusedPermission[];
  /** True when the server refused `operation` on `subject` on this connection (after a round trip). */
  wasRefused(operation: 'publish' | 'subscription', subject: string): Promise<boolean>;
}

/**
 * Connects as `identity` (without reconnecting) with `inboxPrefix`, as an agent of that cluster does,
 * and records every permission violation the server reports. Rejects when the server refuses the
 * connection (expired, revoked or unknown user).
 */
export async function connectAsUser(url: string, identity: NatsUserIdentity, inboxPrefix: string): Promise<UserConnection> {
  const connection = await connect({ servers: url, authenticator: jwtAuthenticator(identity.jwt, new TextEncoder().encode(identity.seed)), inboxPrefix, reconnect: false, timeout: 5000 });
  const refused: RefusedPermission[] = [];
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'error' && status.error instanceof PermissionViolationError) refused.push({ operation: status.error.operation, subject: status.error.subject });
    }
  })();
  return {
    connection,
    refused,
    wasRefused: async (operation, subject) => {
      // The server answers a refused operation with -ERR before the PONG of this flush.
      await connection.flush();
      await new Promise((resolve) => setImmediate(resolve));
      return refused.some((entry) => entry.operation === operation && entry.subject === subject);
    },
  };
}

/** Sends `body` as JSON on `subject` and returns the parsed JSON answer. */
export async function requestJson(connection: NatsConnection, subject: string, body: unknown, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const reply = await connection.request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: timeoutMs });
  return JSON.parse(new TextDecoder().decode(reply.data)) as Record<string, unknown>;
}

/** Asks `flotilla.enroll.<cluster>` for an identity as the shared enrollment user, as an agent does. */
export async function enrollOverNats(url: string, enrollmentJwt: string, cluster: string, body: { token: string; publicKey: string }): Promise<Record<string, unknown>> {
  const connection = await connect({ servers: url, authenticator: jwtAuthenticator(enrollmentJwt), inboxPrefix: '_INBOX_enroll', reconnect: false, timeout: 5000 });
  try {
    return await requestJson(connection, `flotilla.enroll.${cluster}`, body);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The claims of a user JWT the hub signed (unverified: the server verifies). */
export interface UserJwtClaims {
  readonly sub: string;
  readonly name: string;
  readonly iat: number;
  readonly exp: number;
  readonly nats: { readonly pub: { readonly allow: string[] }; readonly sub: { readonly allow: string[] } };
}

export const claimsOf = (jwt: string): UserJwtClaims => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as UserJwtClaims;
