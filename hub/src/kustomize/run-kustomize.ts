import { basename } from 'node:path';
import { runBounded } from '../git/run-bounded';

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
export async function runKustomize(dir: string, options: KustomizeRunOptions): Promise<KustomizeRun> {
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
  const run = await runBounded(options.binary, args, { label: 'kustomize', cwd: options.home, env, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes });
  switch (run.failureKind) {
    case undefined:
      break;
    case 'timeout':
      return { ok: false, code: 'KUSTOMIZE_TIMEOUT', message: `kustomize did not finish within ${Math.round(options.timeoutMs / 1000)} s (FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS)` };
    case 'output':
      return { ok: false, code: 'KUSTOMIZE_OUTPUT_TOO_LARGE', message: `kustomize printed more than ${size(options.maxBytes)} (FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB)` };
    case 'missing-binary':
      return { ok: false, code: 'KUSTOMIZE_UNAVAILABLE', message: `the kustomize binary "${basename(options.binary)}" was not found (FLOTILLA_KUSTOMIZE_BINARY)` };
    default:
      return { ok: false, code: 'KUSTOMIZE_UNAVAILABLE', message: 'kustomize could not be started' };
  }
  if (run.code === 0) return { ok: true, stdout: run.stdout.toString('utf8') };
  return { ok: false, code: 'KUSTOMIZE_FAILED', message: errorMessage(run.stderr) };
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
