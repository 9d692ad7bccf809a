import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_TOKEN_PATTERN, TEST_ADMIN_TOKEN, TEST_CA_ENCRYPTION_KEY, bearer } from './auth.js';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const HUB_MAIN = join(ROOT, 'hub/dist/main.js');
export const AGENT_MAIN = join(ROOT, 'agent/dist/main.js');

/** A child process whose output is kept (last 200 lines) for failure messages. */
export class ManagedProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.output.push(line);
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal and waits for the process to exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  tail(lines = 40): string {
    return `--- last output of ${this.name} ---\n${this.output.slice(-lines).join('\n')}`;
  }
}

export interface HubProcess extends ManagedProcess {
  readonly graphqlUrl: string;
  readonly grpcAddress: string;
  /** FLOTILLA_DATA_DIR of this process. */
  readonly dataDir: string;
  /** The fleet-admin API token (`bootstrap-admin`) to present to this hub's GraphQL API. */
  readonly adminToken: string;
  /**
   * PEM of the agent-link CA, read through the API (`agentLinkCA`) with the admin token as an operator
   * would: what agents started with {@link startAgent} trust (FLOTILLA_HUB_CA).
   */
  readonly caBundle: string;
}

export interface HubOptions {
  /** PostgreSQL URL; omitted: the embedded database in a fresh data folder. */
  databaseUrl?: string;
  dataDir?: string;
  port?: number;
  grpcPort?: number;
  args?: string[];
  env?: Record<string, string>;
  /**
   * true (default): FLOTILLA_BOOTSTRAP_ADMIN_TOKEN is {@link TEST_ADMIN_TOKEN}. false: it is unset (even
   * if this process has it), so the hub generates a token; `adminToken` is then read from
   * `<dataDir>/admin-token`, where the hub writes it.
   */
  presetAdminToken?: boolean;
  /**
   * true (default): FLOTILLA_CA_ENCRYPTION_KEY is {@link TEST_CA_ENCRYPTION_KEY}. false: it is unset, so
   * the hub generates one into `<dataDir>/ca-encryption-key` (only one data folder can then open the CA).
   */
  presetCaEncryptionKey?: boolean;
}

const ADMIN_TOKEN_VARIABLE = 'FLOTILLA_BOOTSTRAP_ADMIN_TOKEN';
const CA_KEY_VARIABLE = 'FLOTILLA_CA_ENCRYPTION_KEY';
/** The file a hub without a preset token writes its generated one to, under FLOTILLA_DATA_DIR. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** How long after /healthz answers the generated token's file may take to appear. */
const ADMIN_TOKEN_FILE_WAIT_MS = 5_000;

/**
 * Starts `node hub/dist/main.js`, waits until /healthz answers and settles its admin token. A hub that
 * exits, never answers, or (without a preset token) writes no token file is killed before this throws.
 */
export async function startHub(options: HubOptions = {}): Promise<HubProcess> {
  const port = options.port ?? (await freePort());
  const grpcPort = options.grpcPort ?? (await freePort());
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    FLOTILLA_GRPC_PORT: String(grpcPort),
    FLOTILLA_DATA_DIR: options.dataDir ?? join(mkdtempSync(join(tmpdir(), 'flotilla-hub-')), 'data'),
    FLOTILLA_HEARTBEAT_SECONDS: '2',
    FLOTILLA_INVENTORY_SECONDS: '5',
    FLOTILLA_OUTBOX_SCAN_MS: '500',
  };
  delete env[ADMIN_TOKEN_VARIABLE];
  if (options.presetAdminToken ?? true) env[ADMIN_TOKEN_VARIABLE] = TEST_ADMIN_TOKEN;
  delete env[CA_KEY_VARIABLE];
  if (options.presetCaEncryptionKey ?? true) env[CA_KEY_VARIABLE] = TEST_CA_ENCRYPTION_KEY;
  Object.assign(env, options.env ?? {});
  const dataDir = env['FLOTILLA_DATA_DIR']!;
  if (options.databaseUrl) env['DATABASE_URL'] = options.databaseUrl;
  else delete env['DATABASE_URL'];
  const child = spawn(process.execPath, [HUB_MAIN, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const managed = new ManagedProcess('hub', child);
  try {
    await eventually(
      async () => {
        if (!managed.running) throw new Error(`hub exited (code ${child.exitCode}, signal ${child.signalCode})\n${managed.tail()}`);
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.ok;
      },
      { timeoutMs: 60_000, what: `hub /healthz\n${managed.tail()}` },
    );
    const adminToken = env[ADMIN_TOKEN_VARIABLE] || (await readAdminTokenFile(managed, dataDir));
    const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
    return Object.assign(managed, {
      graphqlUrl,
      grpcAddress: `127.0.0.1:${grpcPort}`,
      dataDir,
      adminToken,
      caBundle: await readAgentLinkCa(graphqlUrl, adminToken),
    });
  } catch (error) {
    await managed.stop('SIGKILL');
    throw error;
  }
}

/** The hub's agent-link CA bundle, as `{ agentLinkCA }` answers it to the admin token. */
async function readAgentLinkCa(graphqlUrl: string, adminToken: string): Promise<string> {
  const response = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(adminToken) }, body: JSON.stringify({ query: '{ agentLinkCA }' }) });
  const body = (await response.json()) as { data?: { agentLinkCA?: string }; errors?: unknown };
  const pem = body.data?.agentLinkCA;
  if (!pem?.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`the hub answered { agentLinkCA } without a PEM certificate: ${JSON.stringify(body.errors ?? body)}`);
  return pem;
}

/**
 * Waits (bounded) for the token a hub without FLOTILLA_BOOTSTRAP_ADMIN_TOKEN generates and writes; a
 * file still being written is read again. Never echoes the file's content.
 */
async function readAdminTokenFile(hub: ManagedProcess, dataDir: string): Promise<string> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const read = () => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return eventually(
    () => {
      const token = read();
      return token !== undefined && API_TOKEN_PATTERN.test(token) ? token : undefined;
    },
    { timeoutMs: ADMIN_TOKEN_FILE_WAIT_MS, intervalMs: 100, what: file },
  ).catch(() => {
    const problem = read() === undefined ? 'wrote no admin token to' : 'wrote something other than an API token (flt_api_ and 32+ base64url characters) to';
    throw new Error(
      `the hub started without ${ADMIN_TOKEN_VARIABLE} answered /healthz but ${problem} ${file} within ${ADMIN_TOKEN_FILE_WAIT_MS} ms ` +
        `(with API authentication it generates a bootstrap-admin token on first start and writes it there)\n${hub.tail()}`,
    );
  });
}

export interface AgentOptions {
  hubAddress: string;
  /** The CA the agent verifies the hub with (FLOTILLA_HUB_CA), usually `hub.caBundle`; the gRPC transport needs it. */
  hubCa?: string;
  cluster: string;
  bootstrapToken?: string;
  stateDir?: string;
  env?: Record<string, string>;
}

/** Starts `node agent/dist/main.js` with the simulated cluster driver, verifying the hub against `hubCa`. */
export function startAgent(options: AgentOptions): ManagedProcess & { stateDir: string } {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), `flotilla-agent-${options.cluster}-`));
  const inherited = { ...(process.env as Record<string, string>) };
  for (const name of ['FLOTILLA_HUB_CA_FILE', 'FLOTILLA_HUB_INSECURE', 'FLOTILLA_HUB_TLS_SERVER_NAME']) delete inherited[name];
  const env: Record<string, string> = {
    ...inherited,
    FLOTILLA_HUB_ADDRESS: options.hubAddress,
    ...(options.hubCa !== undefined ? { FLOTILLA_HUB_CA: options.hubCa } : {}),
    FLOTILLA_CLUSTER_NAME: options.cluster,
    FLOTILLA_BOOTSTRAP_TOKEN: options.bootstrapToken ?? '',
    FLOTILLA_STATE_DIR: stateDir,
    FLOTILLA_DRIVER: 'sim',
    FLOTILLA_SIM_HEALTHY_AFTER_MS: '500',
    FLOTILLA_RECONNECT_MAX_MS: '2000',
    ...(options.env ?? {}),
  };
  const child = spawn(process.execPath, [AGENT_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return Object.assign(new ManagedProcess(`agent ${options.cluster}`, child), { stateDir });
}
