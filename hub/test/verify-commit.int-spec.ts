import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY_PRIVATE, SIGNING_KEY_UNSUPPORTED } from '../src/core/gitops/signatures';
import { CommitVerificationError, validateKeys, verifyCommit, type CommitVerification } from '../src/git/verify-commit';

/** The command lines of every process on this machine whose command line contains `needle`. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

interface OpenPgpSigner {
  readonly home: string;
  readonly fingerprint: string;
  /** The long key ID gpg names in BADSIG/EXPKEYSIG/REVKEYSIG lines. */
  readonly keyId: string;
  readonly publicKey: string;
}

interface SshSigner {
  readonly privateKeyPath: string;
  readonly publicKey: string;
  /** `SHA256:...`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

describe('verifyCommit: a commit is applied only when signed by a listed key (real git, gpg and ssh-keygen)', () => {
  let scratch: string;
  /** HOME of every tool the test runs: no configuration or key of the machine takes part. */
  let home: string;
  /** TMPDIR of the hub while the tests run: where each verification makes its private folder. */
  let hubTmp: string;
  let work: string;
  let bare: string;
  const gpgHomes: string[] = [];
  const saved = { TMPDIR: process.env['TMPDIR'] };

  let alice: OpenPgpSigner;
  let mallory: OpenPgpSigner;
  let expired: OpenPgpSigner;
  let revoked: OpenPgpSigner;
  let bob: SshSigner;
  let eve: SshSigner;
  const commits: Record<'alice' | 'mallory' | 'expired' | 'revoked' | 'bob' | 'eve' | 'unsigned' | 'aliceTampered' | 'bobTampered', string> = {
    alice: '',
    mallory: '',
    expired: '',
    revoked: '',
    bob: '',
    eve: '',
    unsigned: '',
    aliceTampered: '',
    bobTampered: '',
  };

  const run = (file: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): string =>
    execFileSync(file, [...args], {
      cwd: options.cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, '.gitconfig'), LC_ALL: 'C', ...options.env },
      input: options.input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    }).trim();

  const gpgSigner = (name: string, options: { expire?: string; fakedTime?: string } = {}): OpenPgpSigner => {
    const gpgHome = join(scratch, `gpg-${name}`);
    mkdirSync(gpgHome, { mode: 0o700 });
    gpgHomes.push(gpgHome);
    if (options.fakedTime) writeFileSync(join(gpgHome, 'gpg.conf'), `faked-system-time ${options.fakedTime}\n`);
    const env = { GNUPGHOME: gpgHome };
    run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', options.expire ?? 'never'], { env });
    const fingerprint = run('gpg', ['--batch', '--with-colons', '--list-keys'], { env })
      .split('\n')
      .find((line) => line.startsWith('fpr:'))!
      .split(':')[9]!;
    return { home: gpgHome, fingerprint, keyId: fingerprint.slice(-16), publicKey: run('gpg', ['--batch', '--armor', '--export', fingerprint], { env }) };
  };

  const sshSigner = (name: string): SshSigner => {
    const privateKeyPath = join(scratch, `ssh-${name}`);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@example.com`, '-f', privateKeyPath]);
    return { privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, 'utf8').trim(), fingerprint: run('ssh-keygen', ['-l', '-f', `${privateKeyPath}.pub`]).split(' ')[1]! };
  };

  /** Commits a change in the work repository, signed as `sign` says; returns the commit's SHA. */
  const commitAs = (message: string, sign: { config: string[]; env?: Record<string, string> } | undefined): string => {
    writeFileSync(join(work, 'app-set.yaml'), `# ${message}\n`);
    run('git', ['add', '-A'], { cwd: work });
    run('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...(sign?.config ?? []), 'commit', '-q', ...(sign ? ['-S'] : []), '-m', message], { cwd: work, env: sign?.env });
    return run('git', ['rev-parse', 'HEAD'], { cwd: work });
  };
  const openpgp = (signer: OpenPgpSigner) => ({ config: ['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${signer.fingerprint}`], env: { GNUPGHOME: signer.home } });
  const ssh = (signer: SshSigner) => ({ config: ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${signer.privateKeyPath}.pub`] });

  /** Writes, into the bare repository, a copy of `sha` whose message is changed but whose signature is kept. */
  const tamper = (sha: string): string => {
    const raw = run('git', ['cat-file', 'commit', sha], { cwd: bare });
    return run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: bare, input: `${raw.replace(/\n\n[^\n]*$/, '\n\nrelease everything to production')}\n` });
  };

  const verify = (commit: string, keys: readonly string[]): Promise<CommitVerification> => verifyCommit(bare, commit, keys, { timeoutMs: 20_000 });

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-signed-commits-'));
    home = join(scratch, 'home');
    hubTmp = join(scratch, 'hub-tmp');
    work = join(scratch, 'work');
    bare = join(scratch, 'cache.git');
    for (const dir of [home, hubTmp, work]) mkdirSync(dir);
    process.env['TMPDIR'] = hubTmp;

    alice = gpgSigner('alice');
    mallory = gpgSigner('mallory');
    // Made in 2020 and valid for a day: long expired, its signature good but by an expired key.
    expired = gpgSigner('expired', { expire: '1d', fakedTime: '20200101T000000' });
    revoked = gpgSigner('revoked');
    bob = sshSigner('bob');
    eve = sshSigner('eve');

    run('git', ['init', '-q', '-b', 'main', work]);
    commits.unsigned = commitAs('unsigned', undefined);
    commits.alice = commitAs('signed by alice', openpgp(alice));
    commits.mallory = commitAs('signed by mallory', openpgp(mallory));
    commits.expired = commitAs('signed by an expired key', openpgp(expired));
    commits.revoked = commitAs('signed before the key was revoked', openpgp(revoked));
    commits.bob = commitAs('signed by bob', ssh(bob));
    commits.eve = commitAs('signed by eve', ssh(eve));

    // Revoke the key after it signed, with the certificate gpg made with it, and list the revoked key.
    const certificate = readFileSync(join(revoked.home, 'openpgp-revocs.d', `${revoked.fingerprint}.rev`), 'utf8').replace(/^:-----/m, '-----');
    run('gpg', ['--batch', '--import'], { env: { GNUPGHOME: revoked.home }, input: certificate });
    revoked = { ...revoked, publicKey: run('gpg', ['--batch', '--armor', '--export', revoked.fingerprint], { env: { GNUPGHOME: revoked.home } }) };

    run('git', ['clone', '-q', '--bare', work, bare]);
    commits.aliceTampered = tamper(commits.alice);
    commits.bobTampered = tamper(commits.bob);
  }, 120_000);

  afterEach(() => {
    // Every verification removes its private folder, whatever its outcome.
    expect(readdirSync(hubTmp)).toEqual([]);
  });

  afterAll(() => {
    for (const gpgHome of gpgHomes) {
      try {
        run('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: gpgHome } });
      } catch {
        // No agent was started for this keyring.
      }
    }
    if (saved.TMPDIR === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved.TMPDIR;
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('accepts a commit signed by a listed OpenPGP key, naming the key by fingerprint', async () => {
    expect(await verify(commits.alice, [alice.publicKey])).toEqual({ ok: true, signer: alice.fingerprint, format: 'openpgp' });
  });

  it('accepts a commit signed by a listed SSH key, naming the key by fingerprint', async () => {
    expect(await verify(commits.bob, [bob.publicKey])).toEqual({ ok: true, signer: bob.fingerprint, format: 'ssh' });
  });

  it('accepts either kind of commit from a list holding keys of both kinds', async () => {
    const keys = [eve.publicKey, alice.publicKey, bob.publicKey, mallory.publicKey];
    expect(await verify(commits.alice, keys)).toEqual({ ok: true, signer: alice.fingerprint, format: 'openpgp' });
    expect(await verify(commits.bob, keys)).toEqual({ ok: true, signer: bob.fingerprint, format: 'ssh' });
  });

  it.each([
    ['an unsigned commit', 'unsigned', (): readonly string[] => [alice.publicKey, bob.publicKey], (sha: string) => `commit ${sha.slice(0, 12)} is not signed`],
    [
      'a commit signed by an OpenPGP key that is not listed',
      'mallory',
      () => [alice.publicKey, bob.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} is signed by OpenPGP key ${mallory.fingerprint}, which is not among the listed keys`,
    ],
    [
      'an OpenPGP-signed commit when only SSH keys are listed',
      'alice',
      () => [bob.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} is signed by OpenPGP key ${alice.fingerprint}, which is not among the listed keys`,
    ],
    [
      'a commit signed by an SSH key that is not listed',
      'eve',
      () => [alice.publicKey, bob.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} is signed by SSH key ${eve.fingerprint}, which is not among the listed keys`,
    ],
    [
      'an SSH-signed commit when only OpenPGP keys are listed',
      'bob',
      () => [alice.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} is signed by SSH key ${bob.fingerprint}, which is not among the listed keys`,
    ],
    [
      'a commit changed after a listed OpenPGP key signed it',
      'aliceTampered',
      () => [alice.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} has an OpenPGP signature that does not match its content (key ${alice.keyId}): the commit was changed after it was signed, or the signature is forged`,
    ],
    [
      'a commit changed after a listed SSH key signed it',
      'bobTampered',
      () => [bob.publicKey],
      (sha: string) => `commit ${sha.slice(0, 12)} has an SSH signature that does not match its content: the commit was changed after it was signed, or the signature is forged`,
    ],
    ['a commit signed by a listed key that has expired', 'expired', () => [expired.publicKey], (sha: string) => `commit ${sha.slice(0, 12)} is signed by OpenPGP key ${expired.keyId}, which has expired`],
    ['a commit signed by a listed key that was revoked afterwards', 'revoked', () => [revoked.publicKey], (sha: string) => `commit ${sha.slice(0, 12)} is signed by OpenPGP key ${revoked.keyId}, which has been revoked`],
    ['any commit when no key is listed', 'alice', () => [], (sha: string) => `commit ${sha.slice(0, 12)} cannot be verified: no signing keys are listed, so every commit is refused`],
  ] as const)('refuses %s, saying why', async (_name, commit, keys, reason) => {
    expect(await verify(commits[commit], keys())).toEqual({ ok: false, reason: reason(commits[commit]) });
  });

  it('skips a listed key it cannot use, and names it when the commit is then refused', async () => {
    expect(await verify(commits.alice, ['not a key', alice.publicKey])).toEqual({ ok: true, signer: alice.fingerprint, format: 'openpgp' });
    // A public key packet whose body is cut short: the block reads well, gpg imports nothing from it.
    const unreadable = `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${Buffer.from([0x99, 0x00, 0x03, 0x04, 0x00, 0x00]).toString('base64')}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
    const refused = await verifyCommit(bare, commits.alice, ['not a key', unreadable, bob.publicKey], { timeoutMs: 20_000, keysPath: 'requireSignedBy' });
    expect(refused.ok).toBe(false);
    const reason = refused.ok ? '' : refused.reason;
    expect(reason).toContain(`commit ${commits.alice.slice(0, 12)} is signed by OpenPGP key ${alice.fingerprint}, which is not among the listed keys (listed keys not used: `);
    expect(reason).toContain('requireSignedBy[0] is neither an OpenPGP public key block');
    expect(reason).toContain('; requireSignedBy[1] could not be imported by gpg)');
  });

  it("uses neither the hub user's keyring nor its git configuration", async () => {
    // The hub user trusts mallory's keyring and eve's key: a verification must not.
    const userHome = join(scratch, 'hub-user');
    mkdirSync(userHome);
    writeFileSync(join(userHome, 'allowed-signers'), `* ${eve.publicKey}\n`);
    writeFileSync(join(userHome, '.gitconfig'), `[gpg "ssh"]\n\tallowedSignersFile = ${join(userHome, 'allowed-signers')}\n`);
    const before = { HOME: process.env['HOME'], GNUPGHOME: process.env['GNUPGHOME'] };
    process.env['HOME'] = userHome;
    process.env['GNUPGHOME'] = mallory.home;
    try {
      expect(await verify(commits.mallory, [alice.publicKey])).toMatchObject({ ok: false, reason: expect.stringContaining('which is not among the listed keys') });
      expect(await verify(commits.eve, [bob.publicKey])).toMatchObject({ ok: false, reason: expect.stringContaining('which is not among the listed keys') });
    } finally {
      for (const [name, value] of Object.entries(before)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('keeps verifications that run at the same time apart', async () => {
    const results = await Promise.all([verify(commits.alice, [alice.publicKey]), verify(commits.mallory, [alice.publicKey]), verify(commits.mallory, [mallory.publicKey]), verify(commits.bob, [eve.publicKey])]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false]);
  });

  it('starts no gpg-agent or other daemon that would outlive a verification', async () => {
    await verify(commits.alice, [alice.publicKey]);
    expect(processesMentioning(hubTmp)).toEqual([]);
  });

  it.each([
    ['a commit that is not in the repository', '0123456789abcdef0123456789abcdef01234567', 'could not be read'],
    ['a revision that is not a full commit SHA', 'main', 'must be a full SHA'],
    ['an option in place of a commit', '--help', 'must be a full SHA'],
  ])('rejects %s as an error, not a verdict', async (_name, commit, message) => {
    const error = await verify(commit, [alice.publicKey]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitVerificationError);
    expect((error as Error).message).toContain(message);
  });

  it('rejects a repository folder that does not exist as an error, not a verdict', async () => {
    const error = await verifyCommit(join(scratch, 'missing.git'), commits.alice, [alice.publicKey], { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitVerificationError);
    expect((error as Error).message).toContain('does not exist');
  });

  it('reports bad keys by index when a source is saved, without repeating a private key', () => {
    const privateKey = readFileSync(bob.privateKeyPath, 'utf8');
    const issues = validateKeys([alice.publicKey, bob.publicKey, privateKey, 'AAAAC3NzaC1lZDI1NTE5 bob']);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['keys[2]', SIGNING_KEY_PRIVATE],
      ['keys[3]', SIGNING_KEY_UNSUPPORTED],
    ]);
    const body = privateKey.split('\n')[1]!;
    expect(JSON.stringify(issues)).not.toContain(body.slice(0, 20));
  });
});
