import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
}

export interface HubOptions {
  /** PostgreSQL URL; omitted: the embedded database in a fresh data folder. */
  databaseUrl?: string;
  dataDir?: string;
  port?: number;
  grpcPort?: number;
  args?: string[];
  env?: Record<string, string>;
}

/** Starts `node hub/dist/main.js` and waits until /healthz answers. */
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
    ...(options.env ?? {}),
  };
  if (options.databaseUrl) env['DATABASE_URL'] = options.databaseUrl;
  else delete env['DATABASE_URL'];
  const child = spawn(process.execPath, [HUB_MAIN, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const hub = Object.assign(new ManagedProcess('hub', child), {
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
  }) as HubProcess;
  await eventually(
    async () => {
      if (!hub.running) throw new Error(`hub exited\n${hub.tail()}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return res?.ok;
    },
    { timeoutMs: 60_000, what: `hub /healthz\n${hub.tail()}` },
  );
  return hub;
}

export interface AgentOptions {
  hubAddress: string;
  cluster: string;
  bootstrapToken?: string;
  stateDir?: string;
  env?: Record<string, string>;
}

/** Starts `node agent/dist/main.js` with the simulated cluster driver. */
export function startAgent(options: AgentOptions): ManagedProcess & { stateDir: string } {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), `flotilla-agent-${options.cluster}-`));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    FLOTILLA_HUB_ADDRESS: options.hubAddress,
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
