import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFullCommitSha } from '../core/generators/git-refs';
import { allowedSignersFile, commitSignatureKind, importedFingerprints, judgeVerification, parseSigningKey, type SignatureFormat, type SigningKey } from '../core/gitops/signatures';
import { GitCommandError, runGit, runGitForOutput } from './git-command';
import { runBounded } from './run-bounded';

export { validateKeys } from '../core/gitops/signatures';

/** How one verification is bounded. */
export interface VerifyCommitOptions {
  /** The whole verification (reading the commit, importing keys, `git verify-commit`) ends within this, in milliseconds. */
  readonly timeoutMs: number;
  /** How a refusal names the key list (`requireSignedBy[1]`); `keys` by default. */
  readonly keysPath?: string;
}

/** Whether a commit is signed by one of the listed keys, and by which; or why it is refused. */
export type CommitVerification =
  | {
      readonly ok: true;
      /** OpenPGP: the primary key's fingerprint (upper-case hex). SSH: the key's `SHA256:` fingerprint. */
      readonly signer: string;
      readonly format: SignatureFormat;
    }
  | {
      readonly ok: false;
      /** One sentence naming the commit and why it is refused; holds no key material. */
      readonly reason: string;
    };

/**
 * The signature could not be checked (git or gpg missing or killed, the commit not in the repository):
 * no verdict on the commit, try again later. A refused commit is not an error: see {@link CommitVerification}.
 */
export class CommitVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommitVerificationError';
  }
}

/** Longest raw commit object read; only its headers are used. */
const COMMIT_BYTES = 4 * 1024 * 1024;
/** Longest output accepted from `gpg --import` and `git verify-commit` (status lines, a few hundred bytes each). */
const OUTPUT_BYTES = 256 * 1024;
/**
 * The configuration of the private keyring: gpg never starts an agent or a key server helper (a
 * verification needs neither, and a daemon would outlive the folder), and never fetches a key it
 * does not have.
 */
const GPG_CONF = 'no-autostart\nno-auto-key-retrieve\n';

/**
 * Checks that `commit` (a full SHA in the bare repository `repoDir`) is signed by one of `keys`
 * (OpenPGP armored public key blocks or SSH public key lines, see `parseSigningKey`), with
 * `git verify-commit --raw`. Resolves `{ ok: false, reason }` for an unsigned commit, a signature by a
 * key that is not listed, a bad signature, an expired or revoked key, an empty key list. Rejects with a
 * {@link CommitVerificationError} when the check itself could not run.
 *
 * Each call is isolated: a fresh private folder (0700, removed afterwards, whatever happens) holds a
 * keyring into which only the listed OpenPGP keys are imported, the allowed-signers file of the listed
 * SSH keys, and stands in for HOME, so neither the hub user's keyrings, `~/.ssh` nor `~/.gitconfig`
 * take part. Listed keys that cannot be used are skipped (`validateKeys` reports them when a source is
 * saved) and named in the reason if the commit is then refused.
 */
export async function verifyCommit(repoDir: string, commit: string, keys: readonly string[], options: VerifyCommitOptions): Promise<CommitVerification> {
  if (!isFullCommitSha(commit)) throw new CommitVerificationError('the commit to verify must be a full SHA (40 or 64 lower-case hex digits)');
  if (!(options.timeoutMs > 0)) throw new CommitVerificationError('the verification timeout must be a positive number of milliseconds');
  const label = `commit ${commit.slice(0, 12)}`;
  if (keys.length === 0) return { ok: false, reason: `${label} cannot be verified: no signing keys are listed, so every commit is refused` };

  const keysPath = options.keysPath ?? 'keys';
  const usable: { key: SigningKey; index: number }[] = [];
  const unusable: string[] = [];
  keys.forEach((text, index) => {
    const parsed = parseSigningKey(text);
    if (parsed.ok) usable.push({ key: parsed.key, index });
    else unusable.push(`${keysPath}[${index}] ${parsed.problem.message.split(/[:;]/)[0]}`);
  });

  const deadline = Date.now() + options.timeoutMs;
  const remaining = () => {
    const left = deadline - Date.now();
    if (left <= 0) throw new CommitVerificationError(`verifying ${label} timed out after ${Math.round(options.timeoutMs / 1000)} s`);
    return left;
  };

  const kind = commitSignatureKind(await readCommit(repoDir, commit, remaining()));
  if (kind === undefined) return { ok: false, reason: `${label} is not signed` };
  if (kind === 'x509') return { ok: false, reason: `${label} has an X.509 (S/MIME) signature; only OpenPGP and SSH signatures can be verified` };
  if (kind === 'unknown') return { ok: false, reason: `${label} has a signature of an unknown kind; only OpenPGP and SSH signatures can be verified` };

  const work = await mkdtemp(join(tmpdir(), 'flotilla-verify-'));
  try {
    const gnupgHome = join(work, 'gnupg');
    await mkdir(gnupgHome, { mode: 0o700 });
    await writeFile(join(gnupgHome, 'gpg.conf'), GPG_CONF, { mode: 0o600 });
    const allowedSigners = join(work, 'allowed-signers');
    await writeFile(allowedSigners, allowedSignersFile(usable.map((u) => u.key)), { mode: 0o600 });
    const globalConfig = join(work, 'gitconfig');
    await writeFile(globalConfig, '', { mode: 0o600 });
    const isolated = { HOME: work, XDG_CONFIG_HOME: work, GNUPGHOME: gnupgHome, GIT_CONFIG_GLOBAL: globalConfig };

    const listedFingerprints: string[] = [];
    if (kind === 'openpgp') {
      // One import per key, so that a key gpg cannot read is named, and the others still count.
      for (const { key, index } of usable) {
        if (key.kind !== 'openpgp') continue;
        const fingerprints = await importKey(key.armored, isolated, remaining());
        if (fingerprints.length === 0) unusable.push(`${keysPath}[${index}] could not be imported by gpg`);
        listedFingerprints.push(...fingerprints);
      }
    }

    const result = await runGitForOutput(
      // The programs are named, so that a repository's own configuration cannot swap them.
      ['-c', `gpg.ssh.allowedSignersFile=${allowedSigners}`, '-c', 'gpg.openpgp.program=gpg', '-c', 'gpg.ssh.program=ssh-keygen', 'verify-commit', '--raw', '--end-of-options', commit],
      { cwd: repoDir, timeoutMs: remaining(), maxBytes: OUTPUT_BYTES, env: isolated },
    );
    if (result.failure !== undefined || result.code === null) throw new CommitVerificationError(`verifying ${label} failed: ${result.failure ?? 'git verify-commit was killed'}`);
    const verdict = judgeVerification({ format: kind, exitCode: result.code, output: result.stderr.toString('utf8'), listedFingerprints });
    if (verdict.ok) return verdict;
    const skipped = unusable.length === 0 ? '' : ` (listed keys not used: ${unusable.join('; ')})`;
    return { ok: false, reason: `${label} ${verdict.reason}${skipped}` };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The raw commit object (`git cat-file commit`), as text. */
async function readCommit(repoDir: string, commit: string, timeoutMs: number): Promise<string> {
  try {
    const raw = await runGit(['cat-file', 'commit', commit], { cwd: repoDir, timeoutMs, maxBytes: COMMIT_BYTES });
    return raw.toString('utf8');
  } catch (error) {
    if (error instanceof GitCommandError) throw new CommitVerificationError(`commit ${commit.slice(0, 12)} could not be read: ${error.message}`);
    throw error;
  }
}

/**
 * Imports one armored block into the private keyring and returns the fingerprints gpg imported. gpg
 * gets only the variables it needs (PATH to find itself, the private HOME and GNUPGHOME), bounded
 * like git.
 */
async function importKey(armored: string, isolated: { readonly HOME: string; readonly GNUPGHOME: string }, timeoutMs: number): Promise<string[]> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: isolated.HOME, GNUPGHOME: isolated.GNUPGHOME, LC_ALL: 'C' };
  const result = await runBounded('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--import'], { label: 'gpg --import', env, timeoutMs, maxBytes: OUTPUT_BYTES, input: armored });
  if (result.failure !== undefined) throw new CommitVerificationError(`importing the listed OpenPGP keys failed: ${result.failure}`);
  return importedFingerprints(result.stdout.toString('utf8'));
}
