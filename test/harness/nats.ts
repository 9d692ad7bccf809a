import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The documented NATS server configuration (hub user and per-cluster users edge-1 and edge-2). */
export const DOCUMENTED_NATS_CONF = join(ROOT, 'docs/nats/flotilla.conf');
const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

/** Passwords of the documented configuration's users, as the tests set them in its environment. */
export const NATS_PASSWORDS = {
  hub: 'hub-test-password',
  'edge-1': 'edge-1-test-password',
  'edge-2': 'edge-2-test-password',
} as const;

export interface NatsServerOptions {
  /** Configuration file (`-c`); omitted: no authentication. */
  readonly config?: string;
  /** Environment of the server process (the documented configuration reads passwords from it). */
  readonly env?: Record<string, string>;
}

/**
 * A private nats-server with JetStream on a free loopback port and a store directory of its own.
 * `restart()` keeps the port and the store (JetStream state survives, as on a real restart).
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly options: NatsServerOptions,
  ) {}

  static async start(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), mkdtempSync(join(tmpdir(), 'flotilla-nats-')), options);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops the server the hard way and starts it again on the same port and store. */
  async restart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.startAgain();
  }

  /** Starts a stopped server again on the same port and store. */
  async startAgain(): Promise<void> {
    if (!this.running) await this.launch();
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  tail(lines = 30): string {
    return `--- last output of nats-server ---\n${this.output.slice(-lines).join('\n')}`;
  }

  private async launch(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...(this.options.config ? ['-c', this.options.config] : [])];
    const child = spawn(NATS_SERVER, args, { env: { ...process.env, ...(this.options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.output.push(line);
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    await eventually(
      async () => {
        if (!this.running) throw new Error(`nats-server exited\n${this.tail()}`);
        return (await canConnect(this.port)) && this.output.some((line) => line.includes('Server is ready'));
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `nats-server on port ${this.port}` },
    );
  }
}

/** Starts a server with the documented configuration and the test passwords of {@link NATS_PASSWORDS}. */
export function startDocumentedNatsServer(): Promise<NatsServerProcess> {
  return NatsServerProcess.start({
    config: DOCUMENTED_NATS_CONF,
    env: {
      FLOTILLA_HUB_NATS_PASSWORD: NATS_PASSWORDS.hub,
      EDGE_1_NATS_PASSWORD: NATS_PASSWORDS['edge-1'],
      EDGE_2_NATS_PASSWORD: NATS_PASSWORDS['edge-2'],
    },
  });
}

/** Hub environment for the NATS agent link on `server`, as the documented hub user. */
export function natsHubEnv(server: NatsServerProcess): Record<string, string> {
  return { FLOTILLA_NATS_URL: server.url, FLOTILLA_NATS_USER: 'flotilla-hub', FLOTILLA_NATS_PASSWORD: NATS_PASSWORDS.hub };
}

/** Agent environment for the NATS transport on `server`, as the documented user of `cluster`. */
export function natsAgentEnv(server: NatsServerProcess, cluster: keyof typeof NATS_PASSWORDS & `edge-${number}`): Record<string, string> {
  return { FLOTILLA_TRANSPORT: 'nats', FLOTILLA_NATS_URL: server.url, FLOTILLA_NATS_USER: cluster, FLOTILLA_NATS_PASSWORD: NATS_PASSWORDS[cluster] };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
