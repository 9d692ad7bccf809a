import { spawn } from 'node:child_process';
import { basename } from 'node:path';

/** How one kustomize run is bounded. */
export interface KustomizeRunOptions {
  /** `kubectl` (runs `kubectl kustomize DIR`) or `kustomize` (runs `kustomize build DIR`), by file name. */
  readonly binary: string;
  /** After this long kustomize and everything it started are killed with SIGKILL. */
  readonly timeoutMs: number;
  /** Killed when stdout grows past this many bytes. */
  readonly maxBytes: number;
  /** HOME and the working directory of the run: a private, empty folder. */
  readonly home: string;
}

/** The outcome of a run: stdout, or why it failed (stderr's message, or why it was killed). */
export type KustomizeRun = { readonly ok: true; readonly stdout: string } | { readonly ok: false; readonly code: KustomizeRunFailure; readonly message: string };

/** Issue codes of a failed run. */
export type KustomizeRunFailure = 'KUSTOMIZE_FAILED' | 'KUSTOMIZE_TIMEOUT' | 'KUSTOMIZE_OUTPUT_TOO_LARGE' | 'KUSTOMIZE_UNAVAILABLE';

const STDERR_BYTES = 16 * 1024;
/** After kustomize exits, how long anything it left behind may hold its pipes open. */
const PIPE_GRACE_MS = 2_000;
/**
 * A proxy that refuses every connection: kustomize's own HTTP fetches (remote resources) fail at once
 * even if a remote reference slipped past the check, and a Git fetch finds no allowed transport.
 */
const NO_NETWORK = 'http://127.0.0.1:9';

/**
 * Runs kustomize over `dir` without a shell, in a process group of its own (a timeout kills what it
 * started too), with an environment that holds no kubeconfig, credentials or proxies of the hub. The
 * promise settles once kustomize has exited and been reaped. Never rejects.
 */
export function runKustomize(dir: string, options: KustomizeRunOptions): Promise<KustomizeRun> {
  const standalone = basename(options.binary).startsWith('kustomize');
  const args = standalone ? ['build', dir] : ['kustomize', dir];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: options.home,
    KUBECONFIG: `${options.home}/kubeconfig`,
    LC_ALL: 'C',
    HTTP_PROXY: NO_NETWORK,
    HTTPS_PROXY: NO_NETWORK,
    http_proxy: NO_NETWORK,
    https_proxy: NO_NETWORK,
    NO_PROXY: '',
    GIT_ALLOW_PROTOCOL: '',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  return new Promise((resolve) => {
    const child = spawn(options.binary, args, { cwd: options.home, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let killedFor: { code: KustomizeRunFailure; message: string } | undefined;
    let settled = false;
    const killGroup = (code: KustomizeRunFailure, message: string) => {
      killedFor ??= { code, message };
      try {
        // The group id is kustomize's pid: it has not been reaped yet, so the group is still ours.
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => killGroup('KUSTOMIZE_TIMEOUT', `kustomize did not finish within ${Math.round(options.timeoutMs / 1000)} s (FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS)`), options.timeoutMs);
    const settle = (outcome: KustomizeRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxBytes) killGroup('KUSTOMIZE_OUTPUT_TOO_LARGE', `kustomize printed more than ${size(options.maxBytes)} (FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB)`);
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_BYTES) stderr = stderr.subarray(stderr.length - STDERR_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') settle({ ok: false, code: 'KUSTOMIZE_UNAVAILABLE', message: `the kustomize binary "${basename(options.binary)}" was not found (FLOTILLA_KUSTOMIZE_BINARY)` });
      else if (child.pid === undefined) settle({ ok: false, code: 'KUSTOMIZE_UNAVAILABLE', message: 'kustomize could not be started' });
    });
    child.on('exit', () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code) => {
      if (killedFor !== undefined) settle({ ok: false, ...killedFor });
      else if (code === 0) settle({ ok: true, stdout: Buffer.concat(stdout).toString('utf8') });
      else settle({ ok: false, code: 'KUSTOMIZE_FAILED', message: errorMessage(stderr) });
    });
  });
}

/** kustomize's error (`Error: ...`, kubectl's `error: ...`), its lines joined, warnings left out. */
function errorMessage(stderr: Buffer): string {
  const lines = stderr
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('# Warning'));
  const first = lines.findIndex((line) => /^(error|Error):/.test(line));
  const message = (first === -1 ? lines.slice(-3) : lines.slice(first)).join(' ').replace(/^(error|Error):\s*/, '');
  return message === '' ? 'kustomize failed' : message;
}

function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
