import { childPath, issue, type Issue } from '../issues';

/**
 * Commit signatures of a Git source: which keys an operator listed (OpenPGP armored public key blocks
 * or SSH public key lines), what kind of signature a commit carries, and the verdict read from
 * `git verify-commit --raw` output. Pure: the hub runs git, gpg and ssh-keygen and passes their output in.
 */

/** The signature formats a source can require. */
export type SignatureFormat = 'openpgp' | 'ssh';

/** A listed key, checked and reduced to what is handed to gpg or written to an allowed-signers file. */
export type SigningKey =
  | {
      readonly kind: 'openpgp';
      /** The armored block alone, lines trimmed, ending with a newline: what `gpg --import` reads. */
      readonly armored: string;
      /** The base64 body without line breaks: identifies the block when looking for duplicates. */
      readonly body: string;
    }
  | {
      readonly kind: 'ssh';
      /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ... */
      readonly algorithm: string;
      /** The base64 key data (the comment is dropped). */
      readonly blob: string;
    };

/** Why a listed key cannot be used: `code` is stable, `message` never repeats the key's text. */
export interface KeyProblem {
  readonly code: string;
  readonly message: string;
}

/** The outcome of checking one commit's signature. */
export type SignatureVerdict =
  | {
      readonly ok: true;
      /** OpenPGP: the primary key's fingerprint (upper-case hex). SSH: the key's `SHA256:` fingerprint. */
      readonly signer: string;
      readonly format: SignatureFormat;
    }
  | {
      /** `reason` is a predicate on the commit ("is signed by ..."), for a caller to prefix with the commit. */
      readonly ok: false;
      readonly reason: string;
    };

export const SIGNING_KEY_EMPTY = 'SIGNING_KEY_EMPTY';
export const SIGNING_KEY_TOO_LARGE = 'SIGNING_KEY_TOO_LARGE';
export const SIGNING_KEY_PRIVATE = 'SIGNING_KEY_PRIVATE';
export const SIGNING_KEY_UNSUPPORTED = 'SIGNING_KEY_UNSUPPORTED';
export const SIGNING_KEY_MALFORMED = 'SIGNING_KEY_MALFORMED';
export const SIGNING_KEY_DUPLICATE = 'SIGNING_KEY_DUPLICATE';
export const SIGNING_KEYS_TOO_MANY = 'SIGNING_KEYS_TOO_MANY';

/** Most keys a source may list. */
export const MAX_SIGNING_KEYS = 50;
/** Longest key text accepted, in characters: a key exported with `export-minimal` is a few KB. */
export const MAX_SIGNING_KEY_CHARS = 64 * 1024;

/**
 * The principal every listed SSH key gets in the allowed-signers file. git looks a signature's key up
 * in that file (`ssh-keygen -Y find-principals`) and verifies against the principal it finds there;
 * the committer's name or email plays no part, so one fixed principal accepts "any listed key". A
 * `Good "git" signature for <principal>` line naming another principal is therefore not ours.
 */
export const SSH_PRINCIPAL = 'flotilla-allowed';

/** The SSH public key types accepted, by the name in the key line (the same name opens the key data). */
const SSH_KEY_TYPES = new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']);

const PUBLIC_BLOCK = 'PGP PUBLIC KEY BLOCK';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SSH_KEY_LINE_HINT = 'an SSH public key line (`ssh-ed25519 AAAA... comment`, the content of a `.pub` file)';
const OPENPGP_HINT = 'an OpenPGP public key block (`gpg --armor --export <key id>`)';

/**
 * Classifies and checks one listed key: an OpenPGP armored public key block (which may hold several
 * keys) or one SSH public key line. A private key pasted by mistake, an SSH certificate, a key ID
 * instead of a key, a block whose checksum or first packet is wrong are all refused with a message
 * that says what was found and what to give instead, never repeating the text.
 */
export function parseSigningKey(text: string): { readonly ok: true; readonly key: SigningKey } | { readonly ok: false; readonly problem: KeyProblem } {
  const trimmed = text.trim();
  if (trimmed === '') return refused(SIGNING_KEY_EMPTY, 'is empty');
  if (trimmed.length > MAX_SIGNING_KEY_CHARS) {
    return refused(SIGNING_KEY_TOO_LARGE, `is longer than ${MAX_SIGNING_KEY_CHARS} characters; export the key without third-party signatures (\`gpg --armor --export --export-options export-minimal <key id>\`)`);
  }
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----/.test(trimmed) || trimmed.startsWith('PuTTY-User-Key-File-')) return privateKey();
  // RFC 4716 writes its markers with four dashes and spaces (`---- BEGIN SSH2 PUBLIC KEY ----`).
  if (trimmed.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) return parseArmored(trimmed, 'SSH2 PUBLIC KEY');
  const begin = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed);
  if (begin) return parseArmored(trimmed, begin[1]!);
  return parseSshLine(trimmed);
}

/**
 * Checks every listed key of a source and returns one issue per problem, `path` naming the key by
 * index (`keys[2]`). An empty list gives no issue here: whether a source must verify signatures is
 * the caller's decision (a verification with no keys refuses every commit).
 */
export function validateKeys(keys: readonly string[], path = 'keys'): Issue[] {
  const issues: Issue[] = [];
  if (keys.length > MAX_SIGNING_KEYS) issues.push(issue(SIGNING_KEYS_TOO_MANY, path, `lists ${keys.length} keys; at most ${MAX_SIGNING_KEYS} are allowed`));
  const seen = new Map<string, number>();
  keys.forEach((text, index) => {
    const keyPath = childPath(path, index);
    const parsed = parseSigningKey(text);
    if (!parsed.ok) {
      issues.push(issue(parsed.problem.code, keyPath, `${keyPath} ${parsed.problem.message}`));
      return;
    }
    const identity = keyIdentity(parsed.key);
    const first = seen.get(identity);
    if (first === undefined) seen.set(identity, index);
    else issues.push(issue(SIGNING_KEY_DUPLICATE, keyPath, `${keyPath} is the same key as ${childPath(path, first)}`));
  });
  return issues;
}

/**
 * The allowed-signers file (`gpg.ssh.allowedSignersFile`) for `keys`: one line per key, every key
 * given the principal {@link SSH_PRINCIPAL} and limited to the `git` namespace (a signature the key
 * made over a file or an email, `-n file`, is not a commit signature). Written from the parsed key
 * type and data only, so a comment can never add a line or an option.
 */
export function allowedSignersFile(keys: readonly SigningKey[]): string {
  return keys
    .filter((key): key is Extract<SigningKey, { kind: 'ssh' }> => key.kind === 'ssh')
    .map((key) => `${SSH_PRINCIPAL} namespaces="git" ${key.algorithm} ${key.blob}\n`)
    .join('');
}

/**
 * The kind of signature a raw commit object (`git cat-file commit`) carries, read from the armor of
 * its `gpgsig` (or `gpgsig-sha256`) header; undefined when the commit is not signed. `x509` is an
 * S/MIME signature; `unknown` any other armor.
 */
export function commitSignatureKind(rawCommit: string): SignatureFormat | 'x509' | 'unknown' | undefined {
  for (const line of rawCommit.split('\n')) {
    if (line === '') return undefined; // the headers end at the first empty line; the message follows
    const header = /^gpgsig(?:-sha256)? (.*)$/.exec(line);
    if (!header) continue;
    const armor = header[1]!.trim();
    if (armor === '-----BEGIN PGP SIGNATURE-----') return 'openpgp';
    if (armor === '-----BEGIN SSH SIGNATURE-----') return 'ssh';
    if (armor === '-----BEGIN SIGNED MESSAGE-----') return 'x509';
    return 'unknown';
  }
  return undefined;
}

/** One `[GNUPG:] KEYWORD args...` line of gpg's machine-readable status output. */
export interface GpgStatusLine {
  readonly keyword: string;
  readonly args: readonly string[];
}

/** The status lines in `text` (gpg's `--status-fd` output); other lines are ignored. */
export function parseGpgStatus(text: string): GpgStatusLine[] {
  const lines: GpgStatusLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line.startsWith('[GNUPG:] ')) continue;
    const [keyword, ...args] = line.slice('[GNUPG:] '.length).split(' ');
    if (keyword) lines.push({ keyword, args });
  }
  return lines;
}

/** The fingerprints of the keys a `gpg --batch --status-fd 1 --import` run imported (`IMPORT_OK`), upper-case. */
export function importedFingerprints(statusText: string): string[] {
  return parseGpgStatus(statusText)
    .filter((line) => line.keyword === 'IMPORT_OK' && line.args[1] !== undefined)
    .map((line) => line.args[1]!.toUpperCase());
}

/** What `git verify-commit --raw` left behind for one commit. */
export interface VerifyOutput {
  readonly format: SignatureFormat;
  /** git's exit code. */
  readonly exitCode: number;
  /** git's stderr: gpg's status lines, or ssh-keygen's messages. */
  readonly output: string;
  /** Fingerprints of the listed OpenPGP keys that were imported (primary keys, any case). */
  readonly listedFingerprints: readonly string[];
}

/**
 * The verdict on a commit's signature, from `git verify-commit --raw` output. Accepted only when git
 * exited 0 and the output names a good signature by a listed key: for OpenPGP one signature with
 * `GOODSIG` and a `VALIDSIG` whose primary-key fingerprint is listed (the trust database is not
 * consulted: the keyring holds the listed keys only, and the fingerprint check holds even if it did
 * not), and no `BADSIG`, `ERRSIG`, `EXPSIG`, `EXPKEYSIG` or `REVKEYSIG`: a key that has expired or been
 * revoked is refused, whenever the signature was made. For SSH a `Good "git" signature for
 * flotilla-allowed` line (the principal only listed keys have).
 */
export function judgeVerification(result: VerifyOutput): SignatureVerdict {
  switch (result.format) {
    case 'openpgp':
      return judgeOpenPgp(result);
    case 'ssh':
      return judgeSsh(result);
  }
}

function judgeOpenPgp(result: VerifyOutput): SignatureVerdict {
  const status = parseGpgStatus(result.output);
  const find = (keyword: string) => status.find((line) => line.keyword === keyword);
  const signatures = status.filter((line) => line.keyword === 'NEWSIG').length;
  if (signatures > 1) return { ok: false, reason: `carries ${signatures} OpenPGP signatures where one is expected` };
  const bad = find('BADSIG');
  if (bad) return { ok: false, reason: `has an OpenPGP signature that does not match its content (key ${bad.args[0] ?? 'unknown'}): the commit was changed after it was signed, or the signature is forged` };
  const revoked = find('REVKEYSIG');
  if (revoked) return { ok: false, reason: `is signed by OpenPGP key ${revoked.args[0] ?? 'unknown'}, which has been revoked` };
  const expiredKey = find('EXPKEYSIG');
  if (expiredKey) return { ok: false, reason: `is signed by OpenPGP key ${expiredKey.args[0] ?? 'unknown'}, which has expired` };
  const expired = find('EXPSIG');
  if (expired) return { ok: false, reason: `has an OpenPGP signature that has expired (key ${expired.args[0] ?? 'unknown'})` };
  const error = find('ERRSIG');
  if (error) {
    // ERRSIG <keyid> <pkalgo> <hashalgo> <sig_class> <time> <rc> [<fpr>]: rc 9 is a missing public key.
    const key = error.args[6] && error.args[6] !== '-' ? error.args[6] : (error.args[0] ?? 'unknown');
    if (error.args[5] === '9' || find('NO_PUBKEY')) return { ok: false, reason: `is signed by OpenPGP key ${key}, which is not among the listed keys` };
    return { ok: false, reason: `has an OpenPGP signature that gpg could not check (key ${key}, error code ${error.args[5] ?? 'unknown'})` };
  }
  const good = find('GOODSIG');
  const valid = find('VALIDSIG');
  if (!good || !valid || valid.args[0] === undefined) return { ok: false, reason: `has an OpenPGP signature that gpg did not report as good${firstMessage(result.output)}` };
  // VALIDSIG <signing key fpr> <date> <timestamp> <expires> <version> <reserved> <pkalgo> <hashalgo> <class> [<primary key fpr>]
  const primary = (valid.args[9] ?? valid.args[0]).toUpperCase();
  const listed = new Set(result.listedFingerprints.map((f) => f.toUpperCase()));
  if (!listed.has(primary)) return { ok: false, reason: `is signed by OpenPGP key ${primary}, which is not among the listed keys` };
  if (result.exitCode !== 0) return { ok: false, reason: `has an OpenPGP signature by key ${primary} that git verify-commit did not accept (exit code ${result.exitCode})` };
  return { ok: true, signer: primary, format: 'openpgp' };
}

const SSH_GOOD = /^Good "git" signature for (.+) with (\S+) key (SHA256:[A-Za-z0-9+/]+=*)$/;
const SSH_GOOD_UNKNOWN = /^Good "git" signature with (\S+) key (SHA256:[A-Za-z0-9+/]+=*)$/;

function judgeSsh(result: VerifyOutput): SignatureVerdict {
  const lines = result.output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const line of lines) {
    const good = SSH_GOOD.exec(line);
    if (good && good[1] === SSH_PRINCIPAL) {
      if (result.exitCode !== 0) return { ok: false, reason: `has an SSH signature by key ${good[3]} that git verify-commit did not accept (exit code ${result.exitCode})` };
      return { ok: true, signer: good[3]!, format: 'ssh' };
    }
    const unknown = SSH_GOOD_UNKNOWN.exec(line) ?? good;
    if (unknown) return { ok: false, reason: `is signed by SSH key ${unknown[unknown.length - 1]}, which is not among the listed keys` };
  }
  if (lines.some((line) => line.includes('incorrect signature'))) {
    return { ok: false, reason: 'has an SSH signature that does not match its content: the commit was changed after it was signed, or the signature is forged' };
  }
  return { ok: false, reason: `has an SSH signature that ssh-keygen could not verify${firstMessage(result.output)}` };
}

/** `: <first line>` of a tool's output, printable ASCII only and cut short, for a refusal reason. */
function firstMessage(output: string): string {
  const line = output
    .split('\n')
    .map((l) => l.replace(/[^\x20-\x7e]/g, '').trim())
    .find((l) => l !== '' && !l.startsWith('[GNUPG:]'));
  return line === undefined ? '' : `: ${line.slice(0, 200)}`;
}

function refused(code: string, message: string): { readonly ok: false; readonly problem: KeyProblem } {
  return { ok: false, problem: { code, message } };
}

function privateKey(): { readonly ok: false; readonly problem: KeyProblem } {
  return refused(SIGNING_KEY_PRIVATE, `is a private key: list the public key only (${OPENPGP_HINT}, or the \`.pub\` file of an SSH key), and replace this key, since it has been shared`);
}

function keyIdentity(key: SigningKey): string {
  switch (key.kind) {
    case 'openpgp':
      return `openpgp:${key.body}`;
    case 'ssh':
      return `ssh:${key.algorithm}:${key.blob}`;
  }
}

/** An armored block: an OpenPGP public key block is checked (base64, CRC-24, first packet); any other is refused by kind. */
function parseArmored(text: string, label: string): ReturnType<typeof parseSigningKey> {
  switch (label) {
    case PUBLIC_BLOCK:
      return parsePublicKeyBlock(text);
    case 'PGP SIGNATURE':
    case 'PGP MESSAGE':
    case 'PGP SIGNED MESSAGE':
      return refused(SIGNING_KEY_UNSUPPORTED, `is an OpenPGP ${label.slice(4).toLowerCase()}, not a public key; give ${OPENPGP_HINT}`);
    case 'SSH2 PUBLIC KEY':
      return refused(SIGNING_KEY_UNSUPPORTED, `is an SSH public key in RFC 4716 format; convert it to a key line with \`ssh-keygen -i -f <file>\` and give ${SSH_KEY_LINE_HINT}`);
    case 'SSH SIGNATURE':
      return refused(SIGNING_KEY_UNSUPPORTED, `is an SSH signature, not a public key; give ${SSH_KEY_LINE_HINT}`);
    default:
      return refused(SIGNING_KEY_UNSUPPORTED, `is a "${label}" block; give ${OPENPGP_HINT} or ${SSH_KEY_LINE_HINT}`);
  }
}

function parsePublicKeyBlock(text: string): ReturnType<typeof parseSigningKey> {
  const lines = text.split('\n').map((line) => line.trim());
  if (lines[0] !== `-----BEGIN ${PUBLIC_BLOCK}-----`) return refused(SIGNING_KEY_MALFORMED, `has text after "-----BEGIN ${PUBLIC_BLOCK}-----" on its first line`);
  const end = lines.indexOf(`-----END ${PUBLIC_BLOCK}-----`);
  if (end < 0) return refused(SIGNING_KEY_MALFORMED, `has no "-----END ${PUBLIC_BLOCK}-----" line: the block was cut while copying`);
  if (lines.slice(end + 1).some((line) => line !== '')) return refused(SIGNING_KEY_MALFORMED, 'has text after the end of its OpenPGP block; list each block as a key of its own');
  let i = 1;
  // Armor headers (`Comment: ...`, `Version: ...`) end at an empty line; a block may have none.
  if (/^[A-Za-z][A-Za-z0-9-]*: /.test(lines[i] ?? '')) {
    while (i < end && lines[i] !== '') i++;
  }
  const bodyLines = lines.slice(i, end).filter((line) => line !== '');
  const crcLine = bodyLines.length > 0 && /^=[A-Za-z0-9+/]{4}$/.test(bodyLines[bodyLines.length - 1]!) ? bodyLines.pop()! : undefined;
  const body = bodyLines.join('');
  if (body === '' || body.length % 4 !== 0 || !BASE64.test(body)) return refused(SIGNING_KEY_MALFORMED, 'is not a valid OpenPGP block: its body is not base64 (was it changed or cut while copying?)');
  const data = Buffer.from(body, 'base64');
  if (crcLine !== undefined && Buffer.from(crcLine.slice(1), 'base64').readUIntBE(0, 3) !== crc24(data)) {
    return refused(SIGNING_KEY_MALFORMED, 'is not a valid OpenPGP block: its checksum does not match (was it changed or cut while copying?)');
  }
  switch (packetTag(data[0]!)) {
    case 6:
      break;
    case 5:
      return privateKey();
    default:
      return refused(SIGNING_KEY_MALFORMED, 'is not a valid OpenPGP public key: its block does not start with a public key packet');
  }
  return { ok: true, key: { kind: 'openpgp', armored: `${lines.slice(0, end + 1).join('\n')}\n`, body } };
}

/** The tag of an OpenPGP packet from its first byte (RFC 4880 4.2): 6 is a public key, 5 a secret key; -1 for no packet. */
function packetTag(first: number): number {
  if ((first & 0x80) === 0) return -1;
  return (first & 0x40) !== 0 ? first & 0x3f : (first >> 2) & 0x0f;
}

/** The CRC-24 of an OpenPGP armor checksum (RFC 4880 6.1). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

function parseSshLine(text: string): ReturnType<typeof parseSigningKey> {
  if (text.includes('\n')) {
    return refused(SIGNING_KEY_MALFORMED, `holds several lines; give one ${SSH_KEY_LINE_HINT.slice(3)} per key, or ${OPENPGP_HINT}`);
  }
  const fields = text.split(/\s+/);
  const type = fields[0]!;
  if (!SSH_KEY_TYPES.has(type)) {
    if (type.endsWith('-cert-v01@openssh.com')) return refused(SIGNING_KEY_UNSUPPORTED, `is an SSH certificate; give the plain public key, ${SSH_KEY_LINE_HINT}`);
    if (type === 'ssh-dss') return refused(SIGNING_KEY_UNSUPPORTED, 'is a DSA key, which OpenSSH no longer supports; use an ssh-ed25519 or ssh-rsa key');
    if (fields.slice(1).some((field) => SSH_KEY_TYPES.has(field))) {
      return refused(SIGNING_KEY_MALFORMED, `has something before the key type (a principal or options, as in an allowed-signers or authorized_keys line); give ${SSH_KEY_LINE_HINT} alone`);
    }
    if (/^(0x)?([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$/.test(text.replace(/\s/g, ''))) {
      return refused(SIGNING_KEY_UNSUPPORTED, `is a key ID or fingerprint, not a key; give the public key itself, ${OPENPGP_HINT}`);
    }
    return refused(SIGNING_KEY_UNSUPPORTED, `is neither ${OPENPGP_HINT} nor ${SSH_KEY_LINE_HINT}`);
  }
  const blob = fields[1] ?? '';
  if (blob === '' || blob.length % 4 !== 0 || !BASE64.test(blob) || sshBlobType(Buffer.from(blob, 'base64')) !== type) {
    return refused(SIGNING_KEY_MALFORMED, `is not a valid SSH public key: its key data does not decode to a ${type} key (was it changed or cut while copying?)`);
  }
  return { ok: true, key: { kind: 'ssh', algorithm: type, blob } };
}

/** The key type named at the start of SSH key data (a uint32 length, then the name); undefined when it is not there. */
function sshBlobType(data: Buffer): string | undefined {
  if (data.length < 4) return undefined;
  const length = data.readUInt32BE(0);
  if (length === 0 || length > 64 || data.length < 4 + length + 1) return undefined;
  return data.subarray(4, 4 + length).toString('latin1');
}
