import { maskUrlCredentials } from '../core/safety/mask-credentials';
import { runBounded } from '../git/run-bounded';

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

/**
 * Runs helm with `args` (no shell), in a process group of its own so that a timeout or an output over
 * the limit kills it with everything it started (see runBounded); settles once helm has exited.
 * Resolves with stdout and the tail of stderr (where `helm pull` prints the digest); rejects with a
 * {@link HelmCommandError} holding helm's `Error:` line (or why it was killed).
 */
export async function runHelm(args: readonly string[], options: HelmRunOptions): Promise<{ readonly stdout: string; readonly stderr: string }> {
  const command = args[0] ?? 'helm';
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', KUBECONFIG: '/dev/null', ...options.env };
  const run = await runBounded(options.binary, args, { label: `helm ${command}`, env, timeoutMs: options.timeoutMs, maxBytes: options.maxOutputBytes, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  const fail = (message: string) => new HelmCommandError(maskUrlCredentials(message).slice(0, 1000));
  switch (run.failureKind) {
    case undefined:
      break;
    case 'timeout':
      throw fail(`helm ${command} was stopped after ${Math.round(options.timeoutMs / 1000)} s (FLOTILLA_HELM_TIMEOUT_MS)`);
    case 'output':
      throw fail(`helm ${command} printed more than ${options.maxOutputBytes} bytes (FLOTILLA_HELM_MAX_OUTPUT_MB)`);
    case 'missing-binary':
      throw fail(`the helm binary "${options.binary}" was not found (FLOTILLA_HELM_BINARY)`);
    default:
      throw fail(run.failure ?? `helm ${command} could not be started`);
  }
  if (run.code !== 0) throw fail(errorLine(run.stderr, command));
  return { stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8') };
}

/** helm's `Error: …` line (it may span lines: the rest of stderr after it), else the last line. */
function errorLine(stderr: Buffer, command: string): string {
  const text = stderr.toString('utf8').trim();
  const at = text.lastIndexOf('Error: ');
  if (at >= 0) return text.slice(at + 'Error: '.length).replace(/\s+/g, ' ');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1]?.trim() ?? `helm ${command} failed`;
}
