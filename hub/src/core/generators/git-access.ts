import { normalize } from 'node:path';

/**
 * Which repositories the hub may read for an AppSet: the access half of the Git checks (the syntax
 * half is `checkRepoUrl`). Pure: the service resolves a local path to its real path (symlinks
 * followed) and passes it in with the policy from the hub's configuration.
 */

/** Where a repository URL points: a folder on the hub's disk, or a host reached over the network. */
export type RepoLocation = { readonly kind: 'local'; readonly path: string } | { readonly kind: 'remote'; readonly host: string };

/** What an admin allows (FLOTILLA_GIT_LOCAL_PATHS, FLOTILLA_GIT_ALLOWED_HOSTS) and what is never readable. */
export interface GitAccessPolicy {
  /** Absolute folders under which local repositories may be read (real paths); empty: none. */
  readonly localPaths: readonly string[];
  /** Absolute folders never readable even under an allowed one: the hub's data folder with its Git cache. */
  readonly forbiddenPaths: readonly string[];
  /** Host names (`git.example.com`, `*.example.com`, IP literals) outbound Git may reach; undefined: any. */
  readonly allowedHosts: readonly string[] | undefined;
}

/** Why a repository may not be read: stable `code` for the issue, a message that names no other state. */
export interface GitRefusal {
  readonly code: 'GIT_REPO_NOT_ALLOWED';
  readonly message: string;
}

/** The one answer for a local path outside the allowed folders or inside the hub's own data: it tells neither apart, nor whether the path exists. */
export const LOCAL_PATH_REFUSED =
  "local repositories may be read only from folders the hub's administrator allows (FLOTILLA_GIT_LOCAL_PATHS), and never from the hub's own data folder";

/** scp-like `user@host:path` (ssh), as `checkRepoUrl` accepts it. */
const SCP_LIKE = /^[A-Za-z0-9._~-]+@([A-Za-z0-9.-]+):(?!\/\/)/;
const SCHEME_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;

/**
 * Where `url` (already accepted by `checkRepoUrl`) points, or why it cannot be told: a `file://` URL
 * naming another host, or using percent-encoding (git decodes it, so `%2e%2e` would climb out of a
 * folder that looked allowed), is refused here.
 */
export function repoLocation(url: string): RepoLocation | GitRefusal {
  const scheme = SCHEME_URL.exec(url);
  if (scheme) {
    const rest = scheme[2]!;
    const slash = rest.indexOf('/');
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    if (scheme[1]!.toLowerCase() === 'file') {
      if (authority !== '' && authority.toLowerCase() !== 'localhost') return refusal('a file:// URL must name a path on the hub (file:///path)');
      if (rest.includes('%')) return refusal('a file:// URL may not use percent-encoding');
      return { kind: 'local', path: normalize(slash === -1 ? '/' : rest.slice(slash)) };
    }
    return { kind: 'remote', host: hostOf(authority) };
  }
  const scp = SCP_LIKE.exec(url);
  if (scp) return { kind: 'remote', host: scp[1]!.toLowerCase() };
  return { kind: 'local', path: normalize(url) };
}

/**
 * Why `location` may not be read under `policy`, or undefined when it may. A local path must be
 * inside one of `localPaths` and outside every `forbiddenPaths` (pass real paths: this compares
 * strings); a remote host must match `allowedHosts` when that is set. The refusal depends only on the
 * URL and the configuration, never on what exists on disk or on the network.
 */
export function checkGitAccess(location: RepoLocation, policy: GitAccessPolicy): GitRefusal | undefined {
  if (location.kind === 'local') {
    const inside = (folder: string) => isInside(location.path, folder);
    if (!policy.localPaths.some(inside) || policy.forbiddenPaths.some(inside)) return refusal(LOCAL_PATH_REFUSED);
    return undefined;
  }
  if (policy.allowedHosts === undefined || policy.allowedHosts.some((pattern) => hostMatches(location.host, pattern))) return undefined;
  return refusal(`host "${location.host.slice(0, 253)}" is not one of the Git hosts the hub's administrator allows (FLOTILLA_GIT_ALLOWED_HOSTS)`);
}

/** True when `path` is `folder` or inside it (both absolute). */
export function isInside(path: string, folder: string): boolean {
  const p = normalize(path);
  const f = normalize(folder).replace(/\/+$/, '');
  return f === '' ? p.startsWith('/') : p === f || p.startsWith(`${f}/`);
}

/** `pattern` is a host name or IP literal (exact, case-insensitive) or `*.domain` (any name below `domain`, not `domain` itself). */
export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}

/** The host of a URL authority (`user:pw@host:port`, `[::1]:8443`), lowercased, without brackets or port. */
function hostOf(authority: string): string {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']') === -1 ? undefined : hostPort.indexOf(']'));
  const colon = hostPort.indexOf(':');
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}

function refusal(message: string): GitRefusal {
  return { code: 'GIT_REPO_NOT_ALLOWED', message };
}
