import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitCommandError, runGit, runGitForOutput } from './git-command';
import { runBounded, type BoundedRunOptions } from './run-bounded';

/** The pids of processes whose command line contains `needle`. */
function processesMentioning(needle: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false; // it exited while we looked
      }
    });
}

describe('runBounded (real processes)', () => {
  const options: BoundedRunOptions = { label: 'sh', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 20_000, maxBytes: 1024 };

  it('resolves with the exit code, stdout and stderr of a child that fails', async () => {
    const result = await runBounded('sh', ['-c', 'echo out; echo err >&2; exit 3'], options);
    expect({ code: result.code, stdout: result.stdout.toString(), stderr: result.stderr.toString(), failure: result.failure }).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n', failure: undefined });
  });

  it('passes the environment it is given, and nothing else', async () => {
    const result = await runBounded('sh', ['-c', 'echo "$ONLY_THIS:${HOME:-no home}"'], { ...options, env: { ...options.env, ONLY_THIS: 'yes' } });
    expect(result.stdout.toString()).toBe('yes:no home\n');
  });

  it('writes its input to stdin', async () => {
    const result = await runBounded('cat', [], { ...options, label: 'cat', input: 'hello' });
    expect(result.stdout.toString()).toBe('hello');
  });

  it('kills a child that writes more than it may, saying so', async () => {
    const result = await runBounded('sh', ['-c', 'while :; do echo 0123456789; done'], options);
    expect(result).toMatchObject({ code: null, failure: 'sh produced more than 1024 bytes' });
  });

  it('kills a child that runs too long together with the processes it started', async () => {
    const marker = `sleep ${900 + Math.floor(Math.random() * 99)}.5`;
    const result = await runBounded('sh', ['-c', `${marker} & ${marker}; wait`], { ...options, timeoutMs: 1000 });
    expect(result).toMatchObject({ code: null, failure: 'sh timed out after 1 s' });
    expect(processesMentioning(marker)).toEqual([]);
  });

  it('says so when the binary is missing', async () => {
    const result = await runBounded('flotilla-no-such-binary', [], options);
    expect(result).toMatchObject({ code: null, failure: 'the flotilla-no-such-binary binary was not found' });
  });

  it('says so when the working folder is missing, rather than blaming the binary', async () => {
    const result = await runBounded('sh', ['-c', 'true'], { ...options, cwd: '/nonexistent/flotilla-folder' });
    expect(result).toMatchObject({ code: null, failure: 'the folder /nonexistent/flotilla-folder does not exist' });
  });
});

describe('runGit and runGitForOutput on runBounded (real git)', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-run-git-'));
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('rejects with the line git printed to say what went wrong', async () => {
    const error = await runGit(['rev-parse', '--verify', 'HEAD'], { cwd: scratch, timeoutMs: 20_000, maxBytes: 1024 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitCommandError);
    expect((error as Error).message).toMatch(/^fatal: not a git repository/);
  });

  it('resolves with stdout when git succeeds', async () => {
    expect((await runGit(['--version'], { timeoutMs: 20_000, maxBytes: 1024 })).toString()).toMatch(/^git version /);
  });

  it('adds the extra variables it is given', async () => {
    const result = await runGitForOutput(['var', 'GIT_EDITOR'], { cwd: scratch, timeoutMs: 20_000, maxBytes: 1024, env: { GIT_EDITOR: 'flotilla-editor' } });
    expect({ code: result.code, stdout: result.stdout.toString().trim() }).toEqual({ code: 0, stdout: 'flotilla-editor' });
  });

  it('drops an extra variable that would point git at another repository', async () => {
    const elsewhere = join(scratch, 'elsewhere.git');
    await runGit(['init', '--bare', '--quiet', elsewhere], { timeoutMs: 20_000, maxBytes: 1024 });
    const result = await runGitForOutput(['rev-parse', '--git-dir'], { cwd: scratch, timeoutMs: 20_000, maxBytes: 1024, env: { GIT_DIR: elsewhere } });
    expect(result.code).toBe(128);
  });

  it('resolves with git’s stderr and exit code for a command whose verdict is in its output', async () => {
    const result = await runGitForOutput(['rev-parse', '--verify', 'HEAD'], { cwd: scratch, timeoutMs: 20_000, maxBytes: 1024 });
    expect(result.code).toBe(128);
    expect(result.stderr.toString()).toContain('not a git repository');
  });
});
