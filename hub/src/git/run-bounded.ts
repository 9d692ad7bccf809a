import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** How one child process is bounded. */
export interface BoundedRunOptions {
  /** Names the process in failure messages (`git fetch`, `gpg --import`). */
  readonly label: string;
  readonly cwd?: string;
  /** The whole environment of the child (nothing is inherited besides what is passed). */
  readonly env: NodeJS.ProcessEnv;
  /** After this long the child and every process it started are killed with SIGKILL. */
  readonly timeoutMs: number;
  /** The child is killed when stdout grows past this many bytes. */
  readonly maxBytes: number;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
}

/** How a bounded child ended. */
export interface BoundedRunResult {
  /** The exit code; null when the child was killed or could not be started. */
  readonly code: number | null;
  readonly stdout: Buffer;
  /** The last {@link STDERR_BYTES} bytes of stderr. */
  readonly stderr: Buffer;
  /** Set when the child did not run to its own end: why (timed out, too much output, not started). */
  readonly failure?: string;
  /** What {@link failure} was, for callers that word it their own way. */
  readonly failureKind?: BoundedRunFailure;
}

/** Why a bounded child did not run to its own end. */
export type BoundedRunFailure = 'timeout' | 'output' | 'missing-binary' | 'missing-folder' | 'not-started';

/** The tail of stderr that is kept. */
export const STDERR_BYTES = 16 * 1024;
/** After the child exits, how long a helper that escaped the kill may hold its pipes open before they are closed. */
const PIPE_GRACE_MS = 2_000;

/**
 * Runs `file` with `args` (no shell: arguments are never parsed by one), bounded in time and output.
 * The child runs in a process group of its own, so that a timeout kills the helpers it started too; the
 * promise settles only once the child has exited and been reaped. Never rejects: a non-zero exit, a
 * kill or a binary that is missing are all told by the result.
 */
export function runBounded(file: string, args: readonly string[], options: BoundedRunOptions): Promise<BoundedRunResult> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let killedFor: { kind: BoundedRunFailure; message: string } | undefined;
    let settled = false;
    const killGroup = (kind: BoundedRunFailure, message: string) => {
      killedFor ??= { kind, message };
      try {
        // The group id is the child's pid: the child is still alive here (it has not been reaped), so it is ours.
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => killGroup('timeout', `${options.label} timed out after ${Math.round(options.timeoutMs / 1000)} s`), options.timeoutMs);
    const settle = (code: number | null, failure: { kind: BoundedRunFailure; message: string } | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr, ...(failure === undefined ? {} : { failure: failure.message, failureKind: failure.kind }) });
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxBytes) killGroup('output', `${options.label} produced more than ${options.maxBytes} bytes`);
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_BYTES) stderr = stderr.subarray(stderr.length - STDERR_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // A missing working folder fails the spawn with ENOENT too: tell the two apart.
      if (error.code === 'ENOENT') {
        settle(null, options.cwd !== undefined && !existsSync(options.cwd) ? { kind: 'missing-folder', message: `the folder ${options.cwd} does not exist` } : { kind: 'missing-binary', message: `the ${file} binary was not found` });
      } else if (child.pid === undefined) settle(null, { kind: 'not-started', message: `${options.label} could not be started` });
    });
    child.on('exit', () => {
      // 'close' waits for the pipes; a helper that left the group could hold them open for ever.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code) => {
      if (killedFor !== undefined) settle(null, killedFor);
      else settle(code, undefined);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
