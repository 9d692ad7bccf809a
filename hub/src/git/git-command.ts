import { execFile } from 'node:child_process';

/** How one `git` invocation is bounded. */
export interface GitRunOptions {
  /** Working directory (a bare repository of the cache). */
  readonly cwd?: string;
  /** Killed (SIGKILL) after this long. */
  readonly timeoutMs: number;
  /** Killed when stdout grows past this many bytes. */
  readonly maxBytes: number;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
}

/** A failed `git` run; `message` holds no credentials. */
export class GitCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitCommandError';
  }
}

/**
 * Variables that would point git at another repository, object store or configuration than the one we
 * pass: removed from the environment of every run.
 */
const REDIRECTING = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_NAMESPACE', 'GIT_CEILING_DIRECTORIES'];

/**
 * The environment of every run: never prompt (a missing credential fails at once instead of hanging
 * until the timeout), only the transports the URL check accepts (`ext::` and friends stay off even if
 * a URL slipped through), no system-wide configuration. HOME and the ssh agent are kept: credential
 * helpers, `~/.gitconfig` and ssh keys of the hub's user are how private repositories are reached.
 */
function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REDIRECTING) delete env[name];
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_SSH_COMMAND: env['GIT_SSH_COMMAND'] ?? 'ssh -o BatchMode=yes',
    GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  };
}

/**
 * Runs `git` with `args` (no shell: arguments are never parsed by one), bounded in time and output.
 * Resolves with stdout as bytes; rejects with a {@link GitCommandError} whose message is the last line
 * git printed on stderr with any URL credentials masked.
 */
export function runGit(args: readonly string[], options: GitRunOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      { cwd: options.cwd, env: gitEnvironment(), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: options.maxBytes, encoding: 'buffer', windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        reject(new GitCommandError(describeFailure(args[0] ?? 'git', error, stderr, options)));
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

function describeFailure(command: string, error: Error & { code?: unknown; killed?: boolean; signal?: unknown }, stderr: Buffer, options: GitRunOptions): string {
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `git ${command} produced more than ${options.maxBytes} bytes`;
  if (error.killed || error.signal === 'SIGKILL') return `git ${command} timed out after ${Math.round(options.timeoutMs / 1000)} s`;
  if (error.code === 'ENOENT') return 'the git binary was not found';
  const lines = stderr
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('hint:'));
  const last = lines.find((l) => l.startsWith('fatal:') || l.startsWith('error:')) ?? lines[lines.length - 1] ?? `git ${command} failed`;
  return maskCredentials(last).slice(0, 300);
}

/** Masks the user-info part of every URL in `text` (`https://user:token@host` → `https://***@host`). */
export function maskCredentials(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]+@/g, '$1***@');
}
