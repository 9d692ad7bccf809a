import { describe, expect, it } from 'vitest';
import {
  allowedSignersFile,
  commitSignatureKind,
  importedFingerprints,
  judgeVerification,
  parseGpgStatus,
  parseSigningKey,
  validateKeys,
  MAX_SIGNING_KEY_CHARS,
  MAX_SIGNING_KEYS,
  SIGNING_KEY_DUPLICATE,
  SIGNING_KEY_EMPTY,
  SIGNING_KEY_MALFORMED,
  SIGNING_KEY_PRIVATE,
  SIGNING_KEY_TOO_LARGE,
  SIGNING_KEY_UNSUPPORTED,
  SIGNING_KEYS_TOO_MANY,
  SSH_PRINCIPAL,
  type SigningKey,
  type VerifyOutput,
} from './signatures';

/** A throwaway ed25519 OpenPGP public key (`gpg --armor --export`), fingerprint FC19...0961. */
const OPENPGP_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxUNGhYJKwYBBAHaRw8BAQdAmoXtVHGYHe0gbaWIoODM9FMqpwWJy/5HN4cn
gPrj2qO0GUFsaWNlIDxhbGljZUBleGFtcGxlLmNvbT6IkAQTFggAOBYhBPwZV2c6
ZRdKUUbOsbpLZwukNQlhBQJrFQ0aAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4BAheA
AAoJELpLZwukNQlhKisBAO1y1uHN1CZoGiG5+FMVje3TrlDCrCDlwBu9IFu6pH8l
AP4tCA0waLrY4iHyqhrho75MKwVtop72h+thhkw7sGkHAg==
=EvAR
-----END PGP PUBLIC KEY BLOCK-----
`;
const OPENPGP_FPR = 'FC1957673A65174A5146CEB1BA4B670BA4350961';
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILdqlW6CXWO/EG16ZDyxhYxjp//504tZWida2rPNy6ut bob@laptop';
const ECDSA = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBLiya2iBxmCxeaddvOSe9/6HDCC9iGs+ygCswBMGnexz15RE5ZWlswS6+iBeabp+QCljXdjNYOqFYosOMDhvm0= carol';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClXqRQmH6YTzI8ianK08jI4BuBAx74YbkZteHZczvrXXZyXYHXr9+s7xiA8SYGw9hgA4mOgTeTZxiSkT95e887dlZi6eTUSc1SkykBGIA8H2SB9pxBIQ5Lzm1PB4eQBus1CxrBrcEalgM7YTZJX4t5L6/wA/bRiJRTOMoQLvDT4OgpLHWYe47sG7XgoiEw2e7dU8aPH+rTG4Ykoj053xIWnhQATAIDRDusq0X27ghDHY8xVetcWaiy3BA1HUkcHGe2D/2l/6yuSm5eLHgovj8EqhFKVZMK+h+SBeK5LELQ7SsRJ9kFAV2btAs9Of/48l1vJtI0okvTvn8gaUcsxEQT dave';
const ED25519_BLOB = ED25519.split(' ')[1]!;

/** A private key's body: what must never appear in a message. */
const PRIVATE_BODY = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW';
const OPENSSH_PRIVATE = `-----BEGIN OPENSSH PRIVATE KEY-----\n${PRIVATE_BODY}\n-----END OPENSSH PRIVATE KEY-----\n`;
/** A secret key packet (old-format tag 5) in a block labelled as a public key. */
const SECRET_PACKET_AS_PUBLIC = `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${Buffer.from([0x95, 0x00, 0x03, 0x04, 0x00, 0x00]).toString('base64')}\n-----END PGP PUBLIC KEY BLOCK-----`;

const replaceLine = (text: string, from: string, to: string) => text.split('\n').map((line) => (line === from ? to : line)).join('\n');

describe('parseSigningKey', () => {
  it.each([
    ['an OpenPGP public key block', OPENPGP_KEY, 'openpgp'],
    ['an OpenPGP block with armor headers', OPENPGP_KEY.replace('BLOCK-----\n\n', 'BLOCK-----\nComment: alice\nVersion: GnuPG v2\n\n'), 'openpgp'],
    ['an OpenPGP block with CRLF line ends', OPENPGP_KEY.replaceAll('\n', '\r\n'), 'openpgp'],
    ['an OpenPGP block without its checksum line', replaceLine(OPENPGP_KEY, '=EvAR', ''), 'openpgp'],
    ['an OpenPGP block with blank lines around it', `\n\n  ${OPENPGP_KEY}\n\n`, 'openpgp'],
    ['an ssh-ed25519 line with a comment', ED25519, 'ssh'],
    ['an ssh-ed25519 line without a comment', `ssh-ed25519 ${ED25519_BLOB}`, 'ssh'],
    ['an ecdsa line', ECDSA, 'ssh'],
    ['an ssh-rsa line', RSA, 'ssh'],
    ['a key line with a trailing newline', `${ED25519}\n`, 'ssh'],
  ])('accepts %s', (_name, text, kind) => {
    const parsed = parseSigningKey(text);
    expect(parsed.ok && parsed.key.kind).toBe(kind);
  });

  it('keeps the OpenPGP block alone, trimmed, for gpg to import', () => {
    const parsed = parseSigningKey(`  ${OPENPGP_KEY.replaceAll('\n', '\r\n')}  `);
    expect(parsed.ok && parsed.key.kind === 'openpgp' && parsed.key.armored).toBe(OPENPGP_KEY);
  });

  it('keeps the SSH key type and data, and drops the comment', () => {
    expect(parseSigningKey(ED25519)).toEqual({ ok: true, key: { kind: 'ssh', algorithm: 'ssh-ed25519', blob: ED25519_BLOB } });
  });

  it.each([
    ['nothing', '', SIGNING_KEY_EMPTY, 'is empty'],
    ['whitespace', ' \n\t ', SIGNING_KEY_EMPTY, 'is empty'],
    ['an OpenSSH private key', OPENSSH_PRIVATE, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['an OpenPGP private key block', `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${PRIVATE_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['a PEM RSA private key', `-----BEGIN RSA PRIVATE KEY-----\n${PRIVATE_BODY}\n-----END RSA PRIVATE KEY-----`, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['a PKCS#8 encrypted private key', `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${PRIVATE_BODY}\n-----END ENCRYPTED PRIVATE KEY-----`, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['a PuTTY private key', `PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\n${PRIVATE_BODY}`, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['a public key followed by a private key', `${ED25519}\n${OPENSSH_PRIVATE}`, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['a secret key packet labelled as a public key block', SECRET_PACKET_AS_PUBLIC, SIGNING_KEY_PRIVATE, 'is a private key'],
    ['an OpenPGP signature', `-----BEGIN PGP SIGNATURE-----\n\niHUEABYIAB0WIQT8\n-----END PGP SIGNATURE-----`, SIGNING_KEY_UNSUPPORTED, 'is an OpenPGP signature, not a public key'],
    ['an RFC 4716 SSH public key', `---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----`, SIGNING_KEY_UNSUPPORTED, 'ssh-keygen -i -f'],
    ['an SSH2 public key block with five dashes', `-----BEGIN SSH2 PUBLIC KEY-----\nAAAA\n-----END SSH2 PUBLIC KEY-----`, SIGNING_KEY_UNSUPPORTED, 'ssh-keygen -i -f'],
    ['a PEM public key', `-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----`, SIGNING_KEY_UNSUPPORTED, 'is a "PUBLIC KEY" block'],
    ['an SSH certificate', `ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t bob`, SIGNING_KEY_UNSUPPORTED, 'is an SSH certificate'],
    ['a DSA key', 'ssh-dss AAAAB3NzaC1kc3MAAACBAP bob', SIGNING_KEY_UNSUPPORTED, 'is a DSA key'],
    ['an OpenPGP fingerprint', OPENPGP_FPR, SIGNING_KEY_UNSUPPORTED, 'is a key ID or fingerprint'],
    ['a long key ID', '0xBA4B670BA4350961', SIGNING_KEY_UNSUPPORTED, 'is a key ID or fingerprint'],
    ['an allowed-signers line', `bob@example.com ${ED25519}`, SIGNING_KEY_MALFORMED, 'has something before the key type'],
    ['an authorized_keys line with options', `no-pty,command="true" ${ED25519}`, SIGNING_KEY_MALFORMED, 'has something before the key type'],
    ['a key line without its data', 'ssh-ed25519', SIGNING_KEY_MALFORMED, 'does not decode to a ssh-ed25519 key'],
    ['a key line whose data is of another type', `ssh-ed25519 ${RSA.split(' ')[1]}`, SIGNING_KEY_MALFORMED, 'does not decode to a ssh-ed25519 key'],
    ['a key line whose data is not base64', 'ssh-ed25519 AAAA$$$$ bob', SIGNING_KEY_MALFORMED, 'does not decode'],
    ['a key line cut short', `ssh-ed25519 ${ED25519_BLOB.slice(0, 8)}`, SIGNING_KEY_MALFORMED, 'does not decode'],
    ['two key lines in one key', `${ED25519}\n${RSA}`, SIGNING_KEY_MALFORMED, 'holds several lines'],
    ['an OpenPGP block without its end line', OPENPGP_KEY.replace('-----END PGP PUBLIC KEY BLOCK-----', ''), SIGNING_KEY_MALFORMED, 'was cut while copying'],
    ['an OpenPGP block with text on its first line', OPENPGP_KEY.replace('BLOCK-----\n', 'BLOCK-----x\n'), SIGNING_KEY_MALFORMED, 'on its first line'],
    ['two OpenPGP blocks in one key', `${OPENPGP_KEY}${OPENPGP_KEY}`, SIGNING_KEY_MALFORMED, 'has text after the end of its OpenPGP block'],
    ['an OpenPGP block whose checksum does not match', replaceLine(OPENPGP_KEY, '=EvAR', '=AAAA'), SIGNING_KEY_MALFORMED, 'its checksum does not match'],
    ['an OpenPGP block with one character changed', OPENPGP_KEY.replace('mDMEaxUNGh', 'mDMEaxUNGg'), SIGNING_KEY_MALFORMED, 'its checksum does not match'],
    ['an OpenPGP block whose body is not base64', OPENPGP_KEY.replace('mDMEaxUNGh', 'mDMEaxUN%h'), SIGNING_KEY_MALFORMED, 'its body is not base64'],
    ['an OpenPGP block with an empty body', `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----`, SIGNING_KEY_MALFORMED, 'its body is not base64'],
    ['an OpenPGP block that is not a key', `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${Buffer.from([0x88, 0x01, 0x04]).toString('base64')}\n-----END PGP PUBLIC KEY BLOCK-----`, SIGNING_KEY_MALFORMED, 'does not start with a public key packet'],
    ['a key too long to be one', `ssh-ed25519 ${'A'.repeat(MAX_SIGNING_KEY_CHARS)}`, SIGNING_KEY_TOO_LARGE, 'export-minimal'],
    ['a sentence', 'my laptop key', SIGNING_KEY_UNSUPPORTED, 'is neither an OpenPGP public key block'],
  ])('refuses %s', (_name, text, code, message) => {
    const parsed = parseSigningKey(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem.code).toBe(code);
    expect(parsed.problem.message).toContain(message);
  });

  it('does not repeat a private key pasted by mistake, and says to replace it', () => {
    for (const text of [OPENSSH_PRIVATE, `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${PRIVATE_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`]) {
      const parsed = parseSigningKey(text);
      expect(parsed.ok).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.problem.message).not.toContain(PRIVATE_BODY.slice(0, 12));
      expect(parsed.problem.message).toContain('replace this key');
    }
  });
});

describe('validateKeys', () => {
  it('finds nothing wrong with a list of good keys of both kinds', () => {
    expect(validateKeys([OPENPGP_KEY, ED25519, ECDSA, RSA])).toEqual([]);
  });

  it('finds nothing wrong with an empty list (the caller decides whether keys are required)', () => {
    expect(validateKeys([])).toEqual([]);
  });

  it('reports each bad key by its index, and the others not', () => {
    const issues = validateKeys([ED25519, OPENSSH_PRIVATE, OPENPGP_KEY, 'ssh-ed25519 AAAA']);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['keys[1]', SIGNING_KEY_PRIVATE],
      ['keys[3]', SIGNING_KEY_MALFORMED],
    ]);
    expect(issues[0]!.message).toMatch(/^keys\[1\] is a private key/);
    expect(JSON.stringify(issues)).not.toContain(PRIVATE_BODY.slice(0, 12));
  });

  it('reports a key listed twice, whatever its comment, naming the first', () => {
    const issues = validateKeys([ED25519, OPENPGP_KEY, ED25519.replace('bob@laptop', 'bob@desktop'), `\n${OPENPGP_KEY}`]);
    expect(issues).toEqual([
      { code: SIGNING_KEY_DUPLICATE, path: 'keys[2]', message: 'keys[2] is the same key as keys[0]' },
      { code: SIGNING_KEY_DUPLICATE, path: 'keys[3]', message: 'keys[3] is the same key as keys[1]' },
    ]);
  });

  it('reports a list longer than allowed', () => {
    const keys = Array.from({ length: MAX_SIGNING_KEYS + 1 }, () => ED25519);
    expect(validateKeys(keys).filter((i) => i.code === SIGNING_KEYS_TOO_MANY)).toEqual([
      { code: SIGNING_KEYS_TOO_MANY, path: 'keys', message: `lists ${MAX_SIGNING_KEYS + 1} keys; at most ${MAX_SIGNING_KEYS} are allowed` },
    ]);
  });

  it('writes paths under the path it is given', () => {
    expect(validateKeys(['', ED25519], 'input.verification.keys').map((i) => i.path)).toEqual(['input.verification.keys[0]']);
  });
});

describe('allowedSignersFile', () => {
  const keys = [OPENPGP_KEY, ED25519, RSA].map((text) => {
    const parsed = parseSigningKey(text);
    if (!parsed.ok) throw new Error(parsed.problem.message);
    return parsed.key;
  });

  it('gives every SSH key the one principal, limited to the git namespace, without comments, and skips OpenPGP keys', () => {
    expect(allowedSignersFile(keys)).toBe(`${SSH_PRINCIPAL} namespaces="git" ssh-ed25519 ${ED25519_BLOB}\n${SSH_PRINCIPAL} namespaces="git" ssh-rsa ${RSA.split(' ')[1]}\n`);
  });

  it('is empty without SSH keys', () => {
    expect(allowedSignersFile(keys.filter((key: SigningKey) => key.kind === 'openpgp'))).toBe('');
  });
});

describe('commitSignatureKind', () => {
  const headers = 'tree 5956ee4903fed69449888bcf55ff90c287160c8b\nparent 66d153f1676516cb24938ede3f778086285c8b17\nauthor A <a@b.c> 1796541722 +0000\ncommitter A <a@b.c> 1796541722 +0000\n';
  const signed = (header: string, armor: string) => `${headers}${header} -----BEGIN ${armor}-----\n \n iHUEABYIAB0WIQT8\n -----END ${armor}-----\n\nmessage\n`;

  it.each([
    ['an unsigned commit', `${headers}\nmessage\n`, undefined],
    ['an OpenPGP signature', signed('gpgsig', 'PGP SIGNATURE'), 'openpgp'],
    ['an OpenPGP signature of a SHA-256 repository', signed('gpgsig-sha256', 'PGP SIGNATURE'), 'openpgp'],
    ['an SSH signature', signed('gpgsig', 'SSH SIGNATURE'), 'ssh'],
    ['an X.509 signature', signed('gpgsig', 'SIGNED MESSAGE'), 'x509'],
    ['another armor', signed('gpgsig', 'SOMETHING ELSE'), 'unknown'],
    ['an unsigned commit whose message quotes a signature header', `${headers}\ngpgsig -----BEGIN PGP SIGNATURE-----\n`, undefined],
    ['an unsigned merge of a signed tag (the tag is signed, not the commit)', `${headers}mergetag object 66d153f1676516cb24938ede3f778086285c8b17\n type commit\n tag v1\n\n -----BEGIN PGP SIGNATURE-----\n iHUE\n -----END PGP SIGNATURE-----\n\nmerge\n`, undefined],
  ])('reads %s', (_name, raw, kind) => {
    expect(commitSignatureKind(raw)).toBe(kind);
  });
});

/** gpg's status output for an import (`gpg --batch --status-fd 1 --import`). */
const IMPORT_STATUS = `[GNUPG:] KEY_CONSIDERED ${OPENPGP_FPR} 0
[GNUPG:] IMPORTED BA4B670BA4350961 Alice <alice@example.com>
[GNUPG:] IMPORT_OK 1 ${OPENPGP_FPR}
[GNUPG:] IMPORT_RES 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0
`;

describe('parseGpgStatus and importedFingerprints', () => {
  it('reads keyword and arguments of status lines, and skips other lines', () => {
    expect(parseGpgStatus(`gpg: key imported\n[GNUPG:] IMPORT_OK 1 ${OPENPGP_FPR}\r\n\n[GNUPG:] NEWSIG\n`)).toEqual([
      { keyword: 'IMPORT_OK', args: ['1', OPENPGP_FPR] },
      { keyword: 'NEWSIG', args: [] },
    ]);
  });

  it.each([
    ['a key imported', IMPORT_STATUS, [OPENPGP_FPR]],
    ['a key imported twice (unchanged the second time)', `${IMPORT_STATUS}[GNUPG:] IMPORT_OK 0 ${OPENPGP_FPR}\n`, [OPENPGP_FPR, OPENPGP_FPR]],
    ['a lower-case fingerprint', `[GNUPG:] IMPORT_OK 1 ${OPENPGP_FPR.toLowerCase()}\n`, [OPENPGP_FPR]],
    ['nothing imported', '[GNUPG:] IMPORT_RES 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n', []],
    ['a problem only', '[GNUPG:] IMPORT_PROBLEM 1\n', []],
  ])('finds the fingerprints of %s', (_name, status, fingerprints) => {
    expect(importedFingerprints(status)).toEqual(fingerprints);
  });
});

const SUBKEY_FPR = '0123456789ABCDEF0123456789ABCDEF01234567';
const gpg = (...lines: string[]) => lines.map((line) => `[GNUPG:] ${line}\n`).join('');
const GOOD = gpg(
  'NEWSIG',
  `KEY_CONSIDERED ${OPENPGP_FPR} 0`,
  'SIG_ID C6hBooRxZjY3HlLP6Spx8uhd/G0 2026-12-06 1796541722',
  'GOODSIG BA4B670BA4350961 Alice <alice@example.com>',
  `VALIDSIG ${OPENPGP_FPR} 2026-12-06 1796541722 0 4 0 22 8 00 ${OPENPGP_FPR}`,
  'TRUST_UNDEFINED 0 pgp',
);
const openpgp = (output: string, listed: readonly string[] = [OPENPGP_FPR], exitCode = 0): VerifyOutput => ({ format: 'openpgp', exitCode, output, listedFingerprints: listed });
const ssh = (output: string, exitCode = 0): VerifyOutput => ({ format: 'ssh', exitCode, output, listedFingerprints: [] });
const SSH_FPR = 'SHA256:tk9hDHtTJv8ksD5yk9bE50bgwfN+JqbeY6k+AyqFxH4';

describe('judgeVerification', () => {
  it.each([
    ['a good OpenPGP signature by a listed key', openpgp(GOOD), OPENPGP_FPR, 'openpgp'],
    ['a good OpenPGP signature by a listed key given in lower case', openpgp(GOOD, [OPENPGP_FPR.toLowerCase()]), OPENPGP_FPR, 'openpgp'],
    [
      'a good OpenPGP signature by a subkey of a listed key (the primary key is the signer)',
      openpgp(gpg('NEWSIG', 'GOODSIG 0123456789ABCDEF Alice', `VALIDSIG ${SUBKEY_FPR} 2026-12-06 1796541722 0 4 0 22 8 00 ${OPENPGP_FPR}`)),
      OPENPGP_FPR,
      'openpgp',
    ],
    ['a good SSH signature by a listed key', ssh(`Good "git" signature for ${SSH_PRINCIPAL} with ED25519 key ${SSH_FPR}\n`), SSH_FPR, 'ssh'],
  ])('accepts %s', (_name, output, signer, format) => {
    expect(judgeVerification(output)).toEqual({ ok: true, signer, format });
  });

  it.each([
    ['a good OpenPGP signature by a key that was not listed', openpgp(GOOD, []), `is signed by OpenPGP key ${OPENPGP_FPR}, which is not among the listed keys`],
    ['a good OpenPGP signature git did not accept', openpgp(GOOD, [OPENPGP_FPR], 1), 'that git verify-commit did not accept (exit code 1)'],
    [
      'a signature that does not match the commit',
      openpgp(gpg('NEWSIG', `KEY_CONSIDERED ${OPENPGP_FPR} 0`, 'BADSIG BA4B670BA4350961 Alice <alice@example.com>'), [OPENPGP_FPR], 1),
      'has an OpenPGP signature that does not match its content (key BA4B670BA4350961)',
    ],
    [
      'a signature by a key that is not in the keyring',
      openpgp(gpg('NEWSIG', `ERRSIG BA4B670BA4350961 22 8 00 1796541722 9 ${OPENPGP_FPR}`, 'NO_PUBKEY BA4B670BA4350961'), [], 1),
      `is signed by OpenPGP key ${OPENPGP_FPR}, which is not among the listed keys`,
    ],
    [
      'a signature by a missing key of an old signer that names no fingerprint',
      openpgp(gpg('NEWSIG', 'ERRSIG BA4B670BA4350961 22 8 00 1796541722 9 -', 'NO_PUBKEY BA4B670BA4350961'), [], 1),
      'is signed by OpenPGP key BA4B670BA4350961, which is not among the listed keys',
    ],
    ['a signature with an algorithm gpg cannot check', openpgp(gpg('NEWSIG', `ERRSIG BA4B670BA4350961 99 8 00 1796541722 4 ${OPENPGP_FPR}`), [OPENPGP_FPR], 1), 'that gpg could not check (key'],
    [
      'a good signature by an expired key',
      openpgp(gpg('NEWSIG', 'KEYEXPIRED 1577923200', 'EXPKEYSIG 52E1644CBD8307FF Old <old@example.com>', `VALIDSIG ${OPENPGP_FPR} 2020-01-01 1577836800 0 4 0 22 8 00 ${OPENPGP_FPR}`), [OPENPGP_FPR], 1),
      'is signed by OpenPGP key 52E1644CBD8307FF, which has expired',
    ],
    [
      'a good signature by a revoked key',
      openpgp(gpg('NEWSIG', 'REVKEYSIG FC3C1A6D24D850A3 Rev <rev@example.com>', `VALIDSIG ${OPENPGP_FPR} 2026-12-06 1796541793 0 4 0 22 8 00 ${OPENPGP_FPR}`, 'KEYREVOKED'), [OPENPGP_FPR], 1),
      'is signed by OpenPGP key FC3C1A6D24D850A3, which has been revoked',
    ],
    ['an expired signature', openpgp(gpg('NEWSIG', 'EXPSIG BA4B670BA4350961 Alice', `VALIDSIG ${OPENPGP_FPR} 2026-12-06 1796541722 0 4 0 22 8 00 ${OPENPGP_FPR}`), [OPENPGP_FPR], 1), 'has an OpenPGP signature that has expired'],
    ['two signatures', openpgp(`${GOOD}${GOOD}`), 'carries 2 OpenPGP signatures where one is expected'],
    ['a good signature without its VALIDSIG line', openpgp(gpg('NEWSIG', 'GOODSIG BA4B670BA4350961 Alice')), 'has an OpenPGP signature that gpg did not report as good'],
    ['no status at all', openpgp('gpg: can\'t connect to the keyboxd\n', [OPENPGP_FPR], 1), "did not report as good: gpg: can't connect to the keyboxd"],
    ['an SSH signature by a key that was not listed', ssh(`Good "git" signature with ED25519 key ${SSH_FPR}\nNo principal matched.\n`, 1), `is signed by SSH key ${SSH_FPR}, which is not among the listed keys`],
    ['an SSH signature for another principal', ssh(`Good "git" signature for bob@example.com with ED25519 key ${SSH_FPR}\n`), `is signed by SSH key ${SSH_FPR}, which is not among the listed keys`],
    ['a good SSH signature git did not accept', ssh(`Good "git" signature for ${SSH_PRINCIPAL} with ED25519 key ${SSH_FPR}\n`, 1), 'that git verify-commit did not accept (exit code 1)'],
    ['an SSH signature that does not match the commit', ssh('Could not verify signature.\nSignature verification failed: incorrect signature\n', 1), 'has an SSH signature that does not match its content'],
    [
      'an SSH signature by a key limited to another namespace',
      ssh('Could not verify signature.\n/tmp/x/allowed-signers:1: key is not permitted for use in signature namespace "git"\n', 1),
      'has an SSH signature that ssh-keygen could not verify: Could not verify signature.',
    ],
    ['no SSH output at all', ssh('', 1), 'has an SSH signature that ssh-keygen could not verify'],
  ])('refuses %s', (_name, output, reason) => {
    const verdict = judgeVerification(output);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain(reason);
  });
});
