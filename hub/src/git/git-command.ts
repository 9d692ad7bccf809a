import { spawn } from 'node:child_process';
import { maskUrlCredentials } from '../core/safety/mask-credentials';

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
}

/** A failed `git` run; `message` holds no credentials. */
export class GitCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitCommandError';
  }
}

/** The tail of stderr kept for the error message. */
const STDERR_BYTES = 16 * 1024;
/** After git exits, how long a helper that escaped the kill may hold its pipes open before they are closed. */
const PIPE_GRACE_MS = 2_000;

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
  const env: NodeJS.ProcessEnv = { ...process.env };
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
 * Runs `git` with `args` (no shell: arguments are never parsed by one), bounded in time and output.
 * git runs in a process group of its own, so that a timeout kills the helpers it started too; the
 * promise settles only once git has exited and been reaped. Resolves with stdout as bytes; rejects
 * with a {@link GitCommandError} whose message is the last line git printed on stderr (or why it was
 * killed) with URL credentials and `options.secrets` masked.
 */
export function runGit(args: readonly string[], options: GitRunOptions): Promise<Buffer> {
  const command = args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c') ?? 'git';
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], { cwd: options.cwd, env: gitEnvironment(options), stdio: ['pipe', 'pipe', 'pipe'], detached: true, windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let killedFor: string | undefined;
    let settled = false;
    const killGroup = (reason: string) => {
      killedFor ??= reason;
      try {
        // The group id is git's pid: git is still alive here (it has not been reaped), so it is ours.
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => killGroup(`git ${command} timed out after ${Math.round(options.timeoutMs / 1000)} s`), options.timeoutMs);
    const settle = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) resolve(Buffer.concat(stdout));
      else reject(new GitCommandError(maskUrlCredentials(error, options.secrets).slice(0, 300)));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxBytes) killGroup(`git ${command} produced more than ${options.maxBytes} bytes`);
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_BYTES) stderr = stderr.subarray(stderr.length - STDERR_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') settle('the git binary was not found');
      else if (child.pid === undefined) settle(`git ${command} could not be started`);
    });
    child.on('exit', () => {
      // 'close' waits for the pipes; a helper that left the group could hold them open for ever.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code) => {
      if (killedFor !== undefined) settle(killedFor);
      else if (code === 0) settle(undefined);
      else settle(lastMessage(stderr, command));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
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
