import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsServerProcess } from './nats.js';
import { HUB_MAIN, type ManagedProcess } from './processes.js';

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
