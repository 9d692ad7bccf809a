import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './processes.js';

/** Runs git with a fixed identity and no user or system configuration; returns its trimmed output. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=fleet@example.com', '-c', 'user.name=Fleet Bot', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' },
  }).trim();
}

/**
 * A `git daemon` on 127.0.0.1 serving bare repositories (read-only, as a Git host serves clones),
 * each with a working clone the test commits in and pushes from. Stopped by its PID.
 */
export class GitDaemon {
  private constructor(
    private readonly process: ManagedProcess,
    private readonly root: string,
    readonly port: number,
  ) {}

  static async start(): Promise<GitDaemon> {
    const root = mkdtempSync(join(tmpdir(), 'flotilla-git-daemon-'));
    mkdirSync(join(root, 'served'));
    const port = await freePort();
    const child = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${join(root, 'served')}`, '--informative-errors', join(root, 'served')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    const managed = new ManagedProcess('git daemon', child);
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          if (!managed.running) throw new Error(`git daemon exited\n${managed.tail()}`);
          const socket = connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      { timeoutMs: 10_000, what: 'git daemon to listen' },
    );
    return new GitDaemon(managed, root, port);
  }

  /** Creates the served repository `name` and a working clone of it on branch `main`; returns the clone. */
  createRepository(name: string): GitWorkspace {
    const bare = join(this.root, 'served', `${name}.git`);
    git(this.root, 'init', '-q', '--bare', '-b', 'main', bare);
    const work = join(this.root, 'work', name);
    mkdirSync(work, { recursive: true });
    git(work, 'init', '-q', '-b', 'main');
    git(work, 'remote', 'add', 'origin', bare);
    return new GitWorkspace(work, `git://127.0.0.1:${this.port}/${name}.git`);
  }

  async stop(): Promise<void> {
    await this.process.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A working clone: write files, commit, push; the URL the hub reads it from. */
export class GitWorkspace {
  constructor(
    readonly dir: string,
    readonly url: string,
  ) {}

  /**
   * Writes (or, with null, deletes) files, commits everything and pushes `main`; returns the commit
   * SHA. With `signWithSshKey` (a private key file) the commit is signed with it.
   */
  commit(files: Record<string, string | null>, message: string, signWithSshKey?: string): string {
    for (const [path, text] of Object.entries(files)) {
      const file = join(this.dir, path);
      if (text === null) rmSync(file, { force: true });
      else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
    }
    git(this.dir, 'add', '-A');
    const signing = signWithSshKey === undefined ? [] : ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signWithSshKey}`];
    git(this.dir, ...signing, 'commit', '-q', ...(signing.length > 0 ? ['-S'] : []), '-m', message);
    return this.push();
  }

  /** Pushes `main` (with force: a rewritten history) and returns its commit. */
  push(force = false): string {
    git(this.dir, 'push', '-q', ...(force ? ['--force'] : []), 'origin', 'main');
    return git(this.dir, 'rev-parse', 'HEAD');
  }

  git(...args: string[]): string {
    return git(this.dir, ...args);
  }
}
