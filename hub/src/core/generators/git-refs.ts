import { maskUrlCredentials, urlCredentials } from '../safety/mask-credentials';

/**
 * Checks on what an AppSet may ask Git for. They run twice: here, so that a bad value is an issue with a
 * path into the document, and again in the service right before `git` runs, so that nothing unchecked
 * ever reaches a command line.
 */

/** Transports a repository URL may use. `ext::` and every other `<transport>::` form run commands. */
const URL_SCHEMES = /^(https?|ssh|git|file):\/\/(.*)$/i;
/** scp-like `user@host:path` (ssh). */
const SCP_LIKE = /^([A-Za-z0-9._~-]+)@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/;
/** True when `text` holds a space or a control character (code points up to U+0020, and U+007F). */
function hasSpaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Why `url` may not be used as a repository URL, or undefined when it may. Accepted: `https://`,
 * `http://`, `ssh://`, `git://` and `file://` URLs, scp-like `user@host:path`, and absolute local paths.
 * Refused: `<transport>::<address>` (`ext::sh -c ...` runs a command), anything starting with `-` (it
 * would be read as an option), a host or user starting with `-` (`ssh://-oProxyCommand=...`), relative
 * paths, whitespace and control characters.
 */
export function checkRepoUrl(url: string): string | undefined {
  if (url.length === 0 || url.length > 2048) return 'must be 1 to 2048 characters long';
  if (hasSpaceOrControl(url)) return 'may not contain whitespace or control characters';
  if (url.startsWith('-')) return "may not start with '-'";
  if (url.includes('{{') || url.includes('{%')) return 'may not use parameters (the repositories an AppSet reads are fixed by its document)';
  const scheme = URL_SCHEMES.exec(url);
  if (scheme) {
    const rest = scheme[2]!;
    const authority = rest.split('/')[0] ?? '';
    const host = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
    const user = authority.includes('@') ? authority.slice(0, authority.lastIndexOf('@')) : '';
    if (host.startsWith('-') || user.startsWith('-')) return "may not have a host or user starting with '-'";
    if (scheme[1]!.toLowerCase() !== 'file' && host === '') return 'must name a host';
    return undefined;
  }
  if (url.includes('::')) return 'may not use a <transport>::<address> form (such as ext::)';
  const scp = SCP_LIKE.exec(url);
  if (scp) return scp[1]!.startsWith('-') || scp[2]!.startsWith('-') ? "may not have a host or user starting with '-'" : undefined;
  if (url.startsWith('/')) return undefined;
  return 'must be an https://, http://, ssh://, git:// or file:// URL, user@host:path, or an absolute local path';
}

const REVISION = /^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/;

/**
 * Why `revision` may not be used, or undefined when it may: a branch, tag, `HEAD` or commit SHA made of
 * letters, digits and `._/+-`, not starting with `-` (an option) or `.`/`/`, without `..`, `//` or a
 * trailing `/`, `.` or `.lock`. Refspec syntax (`a:b`, `^`, `~`, `*`, `@{`) never gets through, so a
 * revision cannot make a fetch write refs.
 */
export function checkRevision(revision: string): string | undefined {
  if (revision.length === 0 || revision.length > 256) return 'must be 1 to 256 characters long';
  if (!REVISION.test(revision)) return "must be a branch, tag or commit: letters, digits and . _ / + -, not starting with '-', '.' or '/'";
  if (revision.includes('..') || revision.includes('//') || revision.endsWith('/') || revision.endsWith('.') || revision.endsWith('.lock')) {
    return "may not contain '..' or '//' or end with '/', '.' or '.lock'";
  }
  return undefined;
}

/** True for a full commit SHA (SHA-1 or SHA-256, lowercase hex). */
export function isFullCommitSha(revision: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(revision);
}

/**
 * A path inside a repository, normalised: no leading `/` or `./`, no trailing `/`, `.` for the root.
 * Returns undefined for a path that climbs out (`..`) or holds control characters.
 */
export function normalizeRepoPath(path: string): string | undefined {
  if (hasSpaceOrControl(path.replace(/ /g, ''))) return undefined;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  return parts.length === 0 ? '.' : parts.join('/');
}

/** A repository URL with any password or token in it (user info, query values) masked, for messages, logs and API answers. */
export function redactRepoUrl(url: string): string {
  return maskUrlCredentials(url, urlCredentials(url));
}
