import { spawn } from 'node:child_process';
import { maskUrlCredentials } from '../core/safety/mask-credentials';

/** A helm run that failed; the message is helm's own error line, free of credentials. */
export class HelmCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelmCommandError';
  }
}

export interface HelmRunOptions {
  readonly binary: string;
  /** HELM_*_HOME, HOME and the registry config of this run (see HelmRenderer); PATH is kept. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly cwd?: string;
}

const STDERR_BYTES = 16 * 1024;
const PIPE_GRACE_MS = 1_000;

/**
 * Runs helm with `args` (no shell), in a process group of its own so that a timeout or an output over
 * the limit kills it with everything it started; settles once helm has exited. Resolves with stdout
 * and the tail of stderr (where `helm pull` prints the digest);
 * rejects with a {@link HelmCommandError} holding helm's `Error:` line (or why it was killed).
 */
export function runHelm(args: readonly string[], options: HelmRunOptions): Promise<{ readonly stdout: string; readonly stderr: string }> {
  const command = args[0] ?? 'helm';
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', KUBECONFIG: '/dev/null', ...options.env };
    const child = spawn(options.binary, [...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let killedFor: string | undefined;
    let settled = false;
    const kill = (reason: string) => {
      killedFor ??= reason;
      try {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill(`helm ${command} was stopped after ${Math.round(options.timeoutMs / 1000)} s (FLOTILLA_HELM_TIMEOUT_MS)`), options.timeoutMs);
    const settle = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.toString('utf8') });
      else reject(new HelmCommandError(maskUrlCredentials(error).slice(0, 1000)));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) kill(`helm ${command} printed more than ${options.maxOutputBytes} bytes (FLOTILLA_HELM_MAX_OUTPUT_MB)`);
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_BYTES) stderr = stderr.subarray(stderr.length - STDERR_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') settle(`the helm binary "${options.binary}" was not found (FLOTILLA_HELM_BINARY)`);
      else if (child.pid === undefined) settle(`helm ${command} could not be started`);
    });
    child.on('exit', () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code) => {
      if (killedFor !== undefined) settle(killedFor);
      else if (code === 0) settle(undefined);
      else settle(errorLine(stderr, command));
    });
  });
}

/** helm's `Error: …` line (it may span lines: the rest of stderr after it), else the last line. */
function errorLine(stderr: Buffer, command: string): string {
  const text = stderr.toString('utf8').trim();
  const at = text.lastIndexOf('Error: ');
  if (at >= 0) return text.slice(at + 'Error: '.length).replace(/\s+/g, ' ');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1]?.trim() ?? `helm ${command} failed`;
}
