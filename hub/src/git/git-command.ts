import { maskUrlCredentials } from '../core/safety/mask-credentials';
import { runBounded, type BoundedRunResult } from './run-bounded';

/** How one `git` invocation is bounded. */
export interface GitRunOptions {
  /** Working directory (a bare repository of the cache). */
  readonly cwd?: string;
  /** After this long git and every helper it started (ssh, git-remote-https) are killed with SIGKILL. */
  readonly timeoutMs: number;
  /** Killed when stdout grows past this many bytes. */
  readonly maxBytes: number;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
  /**
   * Transports this run may use (GIT_ALLOW_PROTOCOL): `['file']` for a local repository,
   * `['git', 'http', 'https', 'ssh']` for a remote one; none (the default) for work inside the cache.
   */
  readonly protocols?: readonly string[];
  /** ssh's connect timeout, and how long an http(s) transfer may stay under 1 KB/s, in seconds. */
  readonly connectTimeoutSeconds?: number;
  /** Strings masked in the error message besides URL credentials (the credentials of the URL fetched). */
  readonly secrets?: readonly string[];
  /**
   * Extra environment variables (`GNUPGHOME`, `HOME`) added to the environment described at
   * {@link gitEnvironment}; they cannot undo its protections (prompts, transports, redirections).
   */
  readonly env?: Readonly<Record<string, string>>;
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
 * The environment of one run: never prompt (a missing credential fails at once instead of hanging
 * until the timeout), only the transports the caller names (`ext::` and friends stay off even if a URL
 * slipped through, and a remote fetch can never be turned into a local read), no system-wide
 * configuration, ssh with a connect timeout. HOME and the ssh agent are kept: credential helpers,
 * `~/.gitconfig` and ssh keys of the hub's user are how private repositories are reached.
 */
function gitEnvironment(options: GitRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of REDIRECTING) delete env[name];
  const connect = options.connectTimeoutSeconds;
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_SSH_COMMAND: env['GIT_SSH_COMMAND'] ?? `ssh -o BatchMode=yes${connect ? ` -o ConnectTimeout=${connect}` : ''}`,
    GIT_ALLOW_PROTOCOL: (options.protocols ?? []).join(':'),
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  };
}

/**
 * Runs `git` with `args` (no shell: arguments are never parsed by one), bounded in time and output
 * (see {@link runBounded}: git and the helpers it started are killed together). Resolves with stdout
 * as bytes; rejects with a {@link GitCommandError} whose message is the last line git printed on
 * stderr (or why it was killed) with URL credentials and `options.secrets` masked.
 */
export async function runGit(args: readonly string[], options: GitRunOptions): Promise<Buffer> {
  const result = await runGitForOutput(args, options);
  if (result.failure === undefined && result.code === 0) return result.stdout;
  const error = result.failure ?? lastMessage(result.stderr, commandOf(args));
  throw new GitCommandError(maskUrlCredentials(error, options.secrets).slice(0, 300));
}

/**
 * Runs `git` like {@link runGit} but resolves with the exit code, stdout and the tail of stderr
 * whatever the exit code, for commands whose verdict is in their output (`verify-commit --raw`
 * writes gpg's status lines to stderr, and exits 1 for a refused signature). Never rejects; nothing
 * is masked (the caller must not pass credentials to such a command).
 */
export function runGitForOutput(args: readonly string[], options: GitRunOptions): Promise<BoundedRunResult> {
  return runBounded('git', args, { label: `git ${commandOf(args)}`, cwd: options.cwd, env: gitEnvironment(options), timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, input: options.input });
}

/** The git subcommand in `args` (the first word that is not an option or a `-c` value). */
function commandOf(args: readonly string[]): string {
  return args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c') ?? 'git';
}

/** The line of git's stderr that says what went wrong (`fatal:`/`error:`), else its last line. */
function lastMessage(stderr: Buffer, command: string): string {
  const lines = stderr
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('hint:'));
  return lines.find((l) => l.startsWith('fatal:') || l.startsWith('error:')) ?? lines[lines.length - 1] ?? `git ${command} failed`;
}
