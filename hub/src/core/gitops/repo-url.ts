/**
 * Repository addresses compared the way a push event and a Git source must agree on them. Pure.
 */

/** The longest repository URL compared; longer input is not a repository address. */
export const MAX_REPO_URL_LENGTH = 2048;

/** Ports that a URL may name or leave out without meaning another server. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ssh:': '22', 'git+ssh:': '22', 'ssh+git:': '22', 'git:': '9418' };

/** `user@host:path`, the scp-like form of SSH addresses (`git@github.com:acme/fleet.git`). */
const SCP_LIKE = /^(?:[^@/\s]+@)?([^/:@\s]+):(?!\/)([^\s]+)$/;

/**
 * The form in which two addresses of one repository are equal: `host[:port]/path`, lower case, with
 * the scheme, credentials, a default port, slashes at either end and a trailing `.git` dropped. So
 * `https://github.com/Acme/Fleet.git`, `git@github.com:acme/fleet` and `ssh://git@github.com:22/acme/fleet/`
 * all give `github.com/acme/fleet`.
 *
 * The path is lowered too (as Argo CD does): GitHub, GitLab, Gitea/Forgejo and Bitbucket treat owner and
 * repository names without case, and a false match costs one needless sync, never a wrong apply (a
 * sync reads the source's own repository). Use it to match pushes to sources, not as an identity for
 * access decisions.
 *
 * Returns undefined for what is not a repository address: empty, whitespace or control characters
 * inside, longer than {@link MAX_REPO_URL_LENGTH}, a scheme other than http(s), ssh, git or
 * git+ssh, no host, or no path.
 */
export function normaliseRepoURL(url: string): string | undefined {
  const text = url.trim();
  // eslint-disable-next-line no-control-regex
  if (text === '' || text.length > MAX_REPO_URL_LENGTH || /[\s\u0000-\u001f\u007f]/.test(text)) return undefined;
  let host: string;
  let path: string;
  const scp = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? null : SCP_LIKE.exec(text);
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return undefined;
    }
    const defaultPort = DEFAULT_PORTS[parsed.protocol];
    if (defaultPort === undefined || parsed.hostname === '') return undefined;
    host = parsed.port === '' || parsed.port === defaultPort ? parsed.hostname : `${parsed.hostname}:${parsed.port}`;
    path = parsed.pathname;
  }
  const trimmed = path
    .split('/')
    .filter((segment) => segment !== '')
    .join('/')
    .replace(/\.git$/i, '');
  if (trimmed === '' || host === '') return undefined;
  return `${host}/${trimmed}`.toLowerCase();
}
