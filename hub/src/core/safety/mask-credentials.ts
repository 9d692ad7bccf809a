/**
 * Credentials inside URLs, masked wherever the hub echoes a URL: issues, AppSet conditions, logs and
 * API answers. A repository URL such as `https://ci:ghp_abc@git.example.com/fleet.git?token=xyz` is
 * shown as `https://ci:***@git.example.com/fleet.git?token=***`.
 */

/** What a masked credential reads as. */
export const MASK = '***';

/** A URL inside free text: a scheme, `://`, then everything up to whitespace or a quote. */
const URL_IN_TEXT = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s'"<>`]*)/g;

/** Schemes whose bare user name (`ssh://git@host`) is an account name, not a secret. */
const ACCOUNT_USER_SCHEMES = new Set(['ssh://', 'git+ssh://', 'ssh+git://']);

/** Known secrets shorter than this are not searched for inside longer text (it would mangle it and protect nothing). */
const MIN_SUBSTRING_SECRET = 6;

/**
 * `text` with the credentials of every URL in it masked:
 * - a password (`user:password@`) becomes `user:***@`;
 * - a bare user of any scheme but ssh (`https://TOKEN@host`: hosting services take a token as the
 *   user name) becomes `***@`;
 * - every query value (`?token=abc&x=1`) becomes `***` (a token may hide under any name);
 * - every occurrence of `knownSecrets` (at least 6 characters long), inside a URL or not, becomes `***`:
 *   pass {@link urlCredentials} of the URL a message is about, so that a credential a tool echoed
 *   decoded or outside a URL is masked as well.
 * Pure; never throws; text without URLs or secrets comes back unchanged.
 */
export function maskUrlCredentials(text: string, knownSecrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (_match, scheme: string, rest: string) => scheme + maskAfterScheme(scheme.toLowerCase(), rest));
  const secrets = [...new Set(knownSecrets)].filter((s) => s.length >= MIN_SUBSTRING_SECRET && s !== MASK).sort((a, b) => b.length - a.length);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

/**
 * The credentials of one URL, as written and percent-decoded: its password (or, without one, its
 * user name unless an ssh account name) and its query values. Feed them to {@link maskUrlCredentials} as `knownSecrets`.
 */
export function urlCredentials(url: string): string[] {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(url);
  if (!match) return [];
  const scheme = match[1]!.toLowerCase();
  const { userinfo, query } = splitUrl(match[2]!);
  const found: string[] = [];
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    if (colon === -1) {
      if (!ACCOUNT_USER_SCHEMES.has(scheme)) found.push(userinfo);
    } else {
      found.push(userinfo.slice(colon + 1));
    }
  }
  if (query !== undefined) {
    for (const pair of query.split('&')) {
      const equals = pair.indexOf('=');
      if (equals !== -1) found.push(pair.slice(equals + 1));
    }
  }
  return [...new Set(found.flatMap((value) => [value, decoded(value)]))].filter((value) => value !== '');
}

/** The parts of a URL after its scheme: `userinfo@` (in the authority only), and the query. */
function splitUrl(rest: string): { userinfo: string | undefined; query: string | undefined } {
  const authorityEnd = firstIndexOf(rest, ['/', '?', '#']);
  const authority = rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  const queryStart = rest.indexOf('?');
  const hash = rest.indexOf('#', queryStart === -1 ? 0 : queryStart);
  return {
    userinfo: at === -1 ? undefined : authority.slice(0, at),
    query: queryStart === -1 ? undefined : rest.slice(queryStart + 1, hash === -1 ? undefined : hash),
  };
}

function maskAfterScheme(scheme: string, rest: string): string {
  const authorityEnd = firstIndexOf(rest, ['/', '?', '#']);
  let authority = rest.slice(0, authorityEnd);
  let tail = rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const masked = colon !== -1 ? `${userinfo.slice(0, colon)}:${MASK}` : ACCOUNT_USER_SCHEMES.has(scheme) ? userinfo : MASK;
    authority = `${masked}${authority.slice(at)}`;
  }
  const queryStart = tail.indexOf('?');
  if (queryStart !== -1) {
    const hash = tail.indexOf('#', queryStart);
    const query = tail.slice(queryStart + 1, hash === -1 ? undefined : hash);
    const maskedQuery = query
      .split('&')
      .map((pair) => {
        const equals = pair.indexOf('=');
        return equals === -1 ? pair : `${pair.slice(0, equals)}=${MASK}`;
      })
      .join('&');
    tail = `${tail.slice(0, queryStart + 1)}${maskedQuery}${hash === -1 ? '' : tail.slice(hash)}`;
  }
  return authority + tail;
}

function firstIndexOf(text: string, characters: readonly string[]): number {
  const found = characters.map((c) => text.indexOf(c)).filter((i) => i !== -1);
  return found.length === 0 ? text.length : Math.min(...found);
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
