import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './graphql-client';

const NATS_SERVER = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

/**
 * A private nats-server with JetStream on a free loopback port, started with `configText` (or no config
 * file when it is undefined), stopped by its PID.
 */
export class TestNatsServer {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    readonly output: string[],
  ) {}

  static async start(configText?: string): Promise<TestNatsServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-nats-op-'));
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')];
    if (configText !== undefined) {
      const config = join(dir, 'server.conf');
      writeFileSync(config, configText);
      args.push('-c', config);
    }
    const output: string[] = [];
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const server = new TestNatsServer(port, dir, child, output);
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited:\n${output.slice(-20).join('\n')}`);
      return output.some((line) => line.includes('Server is ready'));
    }, { what: 'nats-server ready' });
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      const exited = new Promise((done) => this.child.once('exit', done));
      process.kill(this.child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
