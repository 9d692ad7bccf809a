/**
 * Which Git host sent a webhook delivery, from its headers alone. Pure.
 */

/** The Git hosts whose push webhooks the hub understands. */
export type GitProvider = 'github' | 'gitlab' | 'gitea' | 'forgejo' | 'bitbucket';

/** Which secret of the hub's secrets file verifies each provider: Forgejo signs as Gitea does, with the `gitea` secret. */
export type GitWebhookSecretName = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

/** The secret that verifies each provider's deliveries. */
export const SECRET_OF: Readonly<Record<GitProvider, GitWebhookSecretName>> = {
  github: 'github',
  gitlab: 'gitlab',
  gitea: 'gitea',
  forgejo: 'gitea',
  bitbucket: 'bitbucket',
};

/** Request headers as Node gives them: names in lower case, a repeated header as an array. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A delivery's sender and the event it announces (`push`, `Push Hook`, `repo:refs_changed`, …). */
export interface DetectedDelivery {
  readonly provider: GitProvider;
  readonly event: string;
}

/**
 * Event headers, most specific first: Forgejo also sends Gitea's, GitHub's and Gogs' headers, and Gitea
 * sends GitHub's and Gogs', so `X-GitHub-Event` alone means GitHub only when no other one is there.
 * Bitbucket Cloud and Server/Data Center share `X-Event-Key` (their event keys differ).
 */
const EVENT_HEADERS: readonly (readonly [string, GitProvider])[] = [
  ['x-forgejo-event', 'forgejo'],
  ['x-gitea-event', 'gitea'],
  ['x-gitlab-event', 'gitlab'],
  ['x-event-key', 'bitbucket'],
  ['x-github-event', 'github'],
];

/** The longest event name read from a header. */
const MAX_EVENT_LENGTH = 64;

/**
 * The provider of the first event header present (see {@link EVENT_HEADERS}) and its event, or a
 * reason it cannot be told: no event header at all, or one that is repeated, empty or too long.
 */
export function detectProvider(headers: WebhookHeaders): { readonly kind: 'detected'; readonly delivery: DetectedDelivery } | { readonly kind: 'unknown'; readonly reason: string } {
  for (const [name, provider] of EVENT_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return { kind: 'unknown', reason: `the ${displayName(name)} header is repeated` };
    const event = value.trim();
    if (event === '' || event.length > MAX_EVENT_LENGTH || !/^[\x20-\x7e]+$/.test(event)) {
      return { kind: 'unknown', reason: `the ${displayName(name)} header is empty, too long or not printable ASCII` };
    }
    return { kind: 'detected', delivery: { provider, event } };
  }
  return {
    kind: 'unknown',
    reason: 'no event header of a known provider (X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event, X-Forgejo-Event or X-Event-Key)',
  };
}

/** A header's name as providers document it, for messages. */
export function displayName(header: string): string {
  return header
    .split('-')
    .map((part) => (part === 'x' ? 'X' : part === 'github' ? 'GitHub' : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('-');
}
