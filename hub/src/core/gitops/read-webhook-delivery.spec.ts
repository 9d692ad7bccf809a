import { describe, expect, it } from 'vitest';
import type { WebhookHeaders } from './detect-provider';
import { MAX_REFS_PER_DELIVERY } from './parse-push';
import { readWebhookDelivery, type GitWebhookSecrets, type WebhookDecision } from './read-webhook-delivery';
import { hmacHex } from './verify-webhook-signature';

const SECRETS: GitWebhookSecrets = {
  github: 'github-secret-0123456789',
  gitlab: 'gitlab-token-0123456789',
  gitea: 'gitea-secret-0123456789',
  bitbucket: 'bitbucket-secret-0123456789',
};
const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
const OLD_SHA = '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12';
const ZERO = '0'.repeat(40);

// Payloads carry the fields the parser reads plus a few it does not, shaped after each provider's documented push event.
const githubPush = (changes: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  before: OLD_SHA,
  after: SHA,
  created: false,
  deleted: false,
  forced: false,
  repository: {
    full_name: 'acme/fleet',
    html_url: 'https://github.com/acme/fleet',
    clone_url: 'https://github.com/acme/fleet.git',
    ssh_url: 'git@github.com:acme/fleet.git',
    git_url: 'git://github.com/acme/fleet.git',
  },
  pusher: { name: 'alice', email: 'alice@example.com' },
  sender: { login: 'alice' },
  commits: [],
  ...changes,
});
const giteaPush = (changes: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  before: OLD_SHA,
  after: SHA,
  repository: { full_name: 'acme/fleet', html_url: 'https://git.example.com/acme/fleet', clone_url: 'https://git.example.com/acme/fleet.git', ssh_url: 'git@git.example.com:acme/fleet.git' },
  pusher: { login: 'alice', username: 'alice', full_name: 'Alice' },
  ...changes,
});
const gitlabPush = (changes: Record<string, unknown> = {}) => ({
  object_kind: 'push',
  event_name: 'push',
  ref: 'refs/heads/main',
  before: OLD_SHA,
  after: SHA,
  checkout_sha: SHA,
  user_username: 'alice',
  user_name: 'Alice',
  project: { path_with_namespace: 'acme/fleet', web_url: 'https://gitlab.example.com/acme/fleet', git_http_url: 'https://gitlab.example.com/acme/fleet.git', git_ssh_url: 'git@gitlab.example.com:acme/fleet.git' },
  repository: { name: 'fleet', homepage: 'https://gitlab.example.com/acme/fleet' },
  ...changes,
});
const bitbucketCloudPush = (changes: unknown[] = [{ new: { type: 'branch', name: 'main', target: { hash: SHA } }, old: { type: 'branch', name: 'main', target: { hash: OLD_SHA } } }]) => ({
  actor: { display_name: 'Alice', nickname: 'alice' },
  repository: { full_name: 'acme/fleet', scm: 'git', links: { html: { href: 'https://bitbucket.org/acme/fleet' } } },
  push: { changes },
});
const bitbucketServerPush = (changes: unknown[] = [{ ref: { id: 'refs/heads/main', displayId: 'main', type: 'BRANCH' }, refId: 'refs/heads/main', fromHash: OLD_SHA, toHash: SHA, type: 'UPDATE' }]) => ({
  eventKey: 'repo:refs_changed',
  date: '2026-12-06T09:00:00+0000',
  actor: { name: 'alice', displayName: 'Alice' },
  repository: {
    slug: 'fleet',
    project: { key: 'OPS' },
    links: {
      clone: [
        { href: 'ssh://git@bitbucket.example.com:7999/ops/fleet.git', name: 'ssh' },
        { href: 'https://bitbucket.example.com/scm/ops/fleet.git', name: 'http' },
      ],
      self: [{ href: 'https://bitbucket.example.com/projects/OPS/repos/fleet/browse' }],
    },
  },
  changes,
});

/** How each provider sends one event: its headers for a body, signed with `secret`. */
interface Sender {
  readonly name: string;
  readonly pushEvent: string;
  readonly otherEvent: string;
  readonly push: () => unknown;
  readonly sign: (event: string, body: string, secret: string) => Record<string, string>;
  /** The header that carries the proof, to drop or tamper with. */
  readonly proofHeader: string;
  readonly secret: string;
  readonly expected: { provider: string; ref: string; repoURL: string; pusher: string };
}

const SENDERS: readonly Sender[] = [
  {
    name: 'GitHub',
    pushEvent: 'push',
    otherEvent: 'issues',
    push: githubPush,
    sign: (event, body, secret) => ({ 'x-github-event': event, 'x-github-delivery': 'd-1', 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`, 'content-type': 'application/json' }),
    proofHeader: 'x-hub-signature-256',
    secret: SECRETS.github!,
    expected: { provider: 'github', ref: 'refs/heads/main', repoURL: 'https://github.com/acme/fleet', pusher: 'alice' },
  },
  {
    name: 'GitLab',
    pushEvent: 'Push Hook',
    otherEvent: 'Merge Request Hook',
    push: gitlabPush,
    sign: (event, _body, secret) => ({ 'x-gitlab-event': event, 'x-gitlab-token': secret, 'content-type': 'application/json' }),
    proofHeader: 'x-gitlab-token',
    secret: SECRETS.gitlab!,
    expected: { provider: 'gitlab', ref: 'refs/heads/main', repoURL: 'https://gitlab.example.com/acme/fleet', pusher: 'alice' },
  },
  {
    name: 'Gitea',
    pushEvent: 'push',
    otherEvent: 'pull_request',
    push: giteaPush,
    // Gitea also sends GitHub's and Gogs' event headers.
    sign: (event, body, secret) => ({ 'x-gitea-event': event, 'x-gogs-event': event, 'x-github-event': event, 'x-gitea-signature': hmacHex(secret, body), 'content-type': 'application/json' }),
    proofHeader: 'x-gitea-signature',
    secret: SECRETS.gitea!,
    expected: { provider: 'gitea', ref: 'refs/heads/main', repoURL: 'https://git.example.com/acme/fleet', pusher: 'alice' },
  },
  {
    name: 'Forgejo',
    pushEvent: 'push',
    otherEvent: 'issues',
    push: giteaPush,
    sign: (event, body, secret) => ({ 'x-forgejo-event': event, 'x-gitea-event': event, 'x-github-event': event, 'x-forgejo-signature': hmacHex(secret, body), 'x-gitea-signature': hmacHex(secret, body), 'content-type': 'application/json' }),
    proofHeader: 'x-forgejo-signature',
    secret: SECRETS.gitea!,
    expected: { provider: 'forgejo', ref: 'refs/heads/main', repoURL: 'https://git.example.com/acme/fleet', pusher: 'alice' },
  },
  {
    name: 'Bitbucket Cloud',
    pushEvent: 'repo:push',
    otherEvent: 'pullrequest:created',
    push: bitbucketCloudPush,
    sign: (event, body, secret) => ({ 'x-event-key': event, 'x-hook-uuid': 'h-1', 'x-hub-signature': `sha256=${hmacHex(secret, body)}`, 'content-type': 'application/json' }),
    proofHeader: 'x-hub-signature',
    secret: SECRETS.bitbucket!,
    expected: { provider: 'bitbucket', ref: 'refs/heads/main', repoURL: 'https://bitbucket.org/acme/fleet', pusher: 'alice' },
  },
  {
    name: 'Bitbucket Data Center',
    pushEvent: 'repo:refs_changed',
    otherEvent: 'pr:opened',
    push: bitbucketServerPush,
    sign: (event, body, secret) => ({ 'x-event-key': event, 'x-request-id': 'r-1', 'x-hub-signature': `sha256=${hmacHex(secret, body)}`, 'content-type': 'application/json; charset=UTF-8' }),
    proofHeader: 'x-hub-signature',
    secret: SECRETS.bitbucket!,
    expected: { provider: 'bitbucket', ref: 'refs/heads/main', repoURL: 'ssh://git@bitbucket.example.com:7999/ops/fleet.git', pusher: 'alice' },
  },
];

const decide = (headers: WebhookHeaders, body: string, secrets: GitWebhookSecrets = SECRETS): WebhookDecision =>
  readWebhookDelivery({ headers, body: { kind: 'bytes', bytes: Buffer.from(body, 'utf8') } }, secrets);

const refusal = (decision: WebhookDecision) => (decision.kind === 'refused' ? { status: decision.status, code: decision.code } : decision.kind);

describe.each(SENDERS)('a $name delivery', (sender) => {
  const body = JSON.stringify(sender.push());

  it('is accepted as a push of the ref, the commit and the repository it names when its proof holds', () => {
    const decision = decide(sender.sign(sender.pushEvent, body, sender.secret), body);
    expect(decision.kind).toBe('push');
    if (decision.kind !== 'push') return;
    expect(decision.pushes).toHaveLength(1);
    expect(decision.pushes[0]).toMatchObject({ provider: sender.expected.provider, ref: sender.expected.ref, after: SHA, deleted: false, pusher: sender.expected.pusher });
    expect(decision.pushes[0]!.repoURLs).toContain(sender.expected.repoURL);
  });

  it('is refused 401 when its proof was made with another secret (a forgery)', () => {
    expect(refusal(decide(sender.sign(sender.pushEvent, body, 'not-the-hub-secret-000000'), body))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });

  it('is refused 401 when its proof is missing', () => {
    const headers = sender.sign(sender.pushEvent, body, sender.secret);
    delete headers[sender.proofHeader];
    if (sender.name === 'Forgejo') delete headers['x-gitea-signature'];
    expect(refusal(decide(headers, body))).toEqual({ status: 401, code: 'MISSING_SIGNATURE' });
  });

  it('is refused 403 when the hub has no secret for the provider, however it is signed', () => {
    const family = sender.expected.provider === 'forgejo' ? 'gitea' : sender.expected.provider;
    const secrets = Object.fromEntries(Object.entries(SECRETS).filter(([name]) => name !== family));
    const decision = decide(sender.sign(sender.pushEvent, body, sender.secret), body, secrets);
    expect(refusal(decision)).toEqual({ status: 403, code: 'NO_SECRET' });
    expect(decision.kind === 'refused' && decision.message).toContain(`"${family}"`);
  });

  it('is refused 413 when its body was over the limit, before anything else is read', () => {
    const decision = readWebhookDelivery({ headers: sender.sign(sender.pushEvent, body, sender.secret), body: { kind: 'tooLarge', limitBytes: 1024 } }, SECRETS);
    expect(refusal(decision)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('is refused 400 when its body does not parse, even correctly signed', () => {
    const broken = '{"ref": "refs/heads/main", ';
    expect(refusal(decide(sender.sign(sender.pushEvent, broken, sender.secret), broken))).toEqual({ status: 400, code: 'INVALID_PAYLOAD' });
  });

  it('is ignored when it announces an event that is not a push', () => {
    const other = JSON.stringify({ action: 'opened' });
    expect(decide(sender.sign(sender.otherEvent, other, sender.secret), other)).toMatchObject({ kind: 'ignored', provider: sender.expected.provider });
  });

  it('is refused 401, not ignored, when an event that is not a push is not signed by the hub secret', () => {
    const other = JSON.stringify({ action: 'opened' });
    expect(refusal(decide(sender.sign(sender.otherEvent, other, 'not-the-hub-secret-000000'), other))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });
});

describe.each(SENDERS.filter((sender) => sender.name !== 'GitLab'))('a $name signature', (sender) => {
  const body = JSON.stringify(sender.push());

  it.each([
    ['made for a different body', (headers: Record<string, string>) => headers, JSON.stringify({ ...(sender.push() as object), ref: 'refs/heads/evil' })],
    ['with one hex digit changed', (headers: Record<string, string>) => ({ ...headers, [sender.proofHeader]: headers[sender.proofHeader]!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }), body],
    ['cut short', (headers: Record<string, string>) => ({ ...headers, [sender.proofHeader]: headers[sender.proofHeader]!.slice(0, -2) }), body],
    ['that is not hex', (headers: Record<string, string>) => ({ ...headers, [sender.proofHeader]: headers[sender.proofHeader]!.replace(/.{4}$/, 'zzzz') }), body],
    ['sent twice', (headers: Record<string, string>) => ({ ...headers, [sender.proofHeader]: [headers[sender.proofHeader]!, headers[sender.proofHeader]!] }), body],
  ])('is refused 401 when %s', (_name, tamper, sentBody) => {
    const headers = tamper(sender.sign(sender.pushEvent, body, sender.secret)) as WebhookHeaders;
    expect(refusal(decide(headers, sentBody))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });
});

describe('readWebhookDelivery', () => {
  const githubHeaders = (event: string, body: string, secret = SECRETS.github!) => ({ 'x-github-event': event, 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`, 'content-type': 'application/json' });

  it('answers a signed GitHub ping and does nothing else', () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    expect(decide(githubHeaders('ping', body), body)).toEqual({ kind: 'ping', provider: 'github' });
  });

  it('refuses a GitHub ping signed with another secret, so that a wrong secret shows at setup', () => {
    const body = JSON.stringify({ zen: 'x' });
    expect(refusal(decide(githubHeaders('ping', body, 'wrong-secret-0000000000'), body))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });

  it('answers a signed Bitbucket Data Center test connection as a ping', () => {
    const body = JSON.stringify({ test: true });
    const headers = { 'x-event-key': 'diagnostics:ping', 'x-hub-signature': `sha256=${hmacHex(SECRETS.bitbucket!, body)}` };
    expect(decide(headers, body)).toEqual({ kind: 'ping', provider: 'bitbucket' });
  });

  it.each([
    ['no event header at all', { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' }],
    ['only a Gogs event header', { 'x-gogs-event': 'push' }],
    ['a repeated event header', { 'x-github-event': ['push', 'push'] }],
    ['an empty event header', { 'x-github-event': '   ' }],
    ['an over-long event header', { 'x-github-event': 'p'.repeat(200) }],
  ])('refuses 400 a delivery with %s', (_name, headers) => {
    expect(refusal(decide(headers as WebhookHeaders, '{}'))).toEqual({ status: 400, code: 'UNKNOWN_PROVIDER' });
  });

  it('takes a delivery that carries both Gitea and GitHub headers as Gitea, verified with the gitea secret only', () => {
    const body = JSON.stringify(giteaPush());
    const signedAsGithub = { 'x-gitea-event': 'push', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(SECRETS.github!, body)}` };
    expect(refusal(decide(signedAsGithub, body))).toEqual({ status: 401, code: 'MISSING_SIGNATURE' });
  });

  it('checks Forgejo’s own signature first: a good Gitea signature does not rescue a bad Forgejo one', () => {
    const body = JSON.stringify(giteaPush());
    const headers = { 'x-forgejo-event': 'push', 'x-forgejo-signature': hmacHex('wrong-secret-0000000000', body), 'x-gitea-signature': hmacHex(SECRETS.gitea!, body) };
    expect(refusal(decide(headers, body))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });

  it('refuses a GitLab token that is the secret with something added', () => {
    const body = JSON.stringify(gitlabPush());
    expect(refusal(decide({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': `${SECRETS.gitlab}x` }, body))).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });

  it('reads a GitHub push sent form-encoded, verified over the form as sent', () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(githubPush()))}`;
    const headers = { ...githubHeaders('push', body), 'content-type': 'application/x-www-form-urlencoded' };
    expect(decide(headers, body)).toMatchObject({ kind: 'push', pushes: [{ ref: 'refs/heads/main', after: SHA }] });
  });

  it('reads a GitLab tag push and a deleted branch', () => {
    const tag = JSON.stringify(gitlabPush({ object_kind: 'tag_push', ref: 'refs/tags/v1.2.0' }));
    expect(decide({ 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRETS.gitlab! }, tag)).toMatchObject({ kind: 'push', pushes: [{ ref: 'refs/tags/v1.2.0', deleted: false }] });
    const deleted = JSON.stringify(gitlabPush({ after: ZERO, checkout_sha: null }));
    expect(decide({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRETS.gitlab! }, deleted)).toMatchObject({ kind: 'push', pushes: [{ ref: 'refs/heads/main', after: ZERO, deleted: true }] });
  });

  it('reads every ref of a Bitbucket Cloud push: a branch, a tag, a deleted branch; a Mercurial bookmark is not a ref', () => {
    const body = JSON.stringify(
      bitbucketCloudPush([
        { new: { type: 'branch', name: 'main', target: { hash: SHA } }, old: null },
        { new: { type: 'tag', name: 'v2', target: { hash: SHA } }, old: null },
        { new: null, old: { type: 'branch', name: 'old-feature', target: { hash: OLD_SHA } } },
        { new: { type: 'bookmark', name: 'b', target: { hash: SHA } }, old: null },
      ]),
    );
    const decision = decide({ 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${hmacHex(SECRETS.bitbucket!, body)}` }, body);
    expect(decision.kind === 'push' && decision.pushes.map((push) => [push.ref, push.deleted])).toEqual([
      ['refs/heads/main', false],
      ['refs/tags/v2', false],
      ['refs/heads/old-feature', true],
    ]);
  });

  it('reads every ref of a Bitbucket Data Center push with both clone addresses', () => {
    const body = JSON.stringify(
      bitbucketServerPush([
        { ref: { id: 'refs/heads/main' }, refId: 'refs/heads/main', fromHash: OLD_SHA, toHash: SHA, type: 'UPDATE' },
        { ref: { id: 'refs/heads/gone' }, refId: 'refs/heads/gone', fromHash: OLD_SHA, toHash: ZERO, type: 'DELETE' },
      ]),
    );
    const decision = decide({ 'x-event-key': 'repo:refs_changed', 'x-hub-signature': `sha256=${hmacHex(SECRETS.bitbucket!, body)}` }, body);
    expect(decision).toMatchObject({
      kind: 'push',
      pushes: [
        { ref: 'refs/heads/main', deleted: false, repoURLs: ['ssh://git@bitbucket.example.com:7999/ops/fleet.git', 'https://bitbucket.example.com/scm/ops/fleet.git'] },
        { ref: 'refs/heads/gone', deleted: true },
      ],
    });
  });

  it('ignores a Bitbucket Cloud push that moved only Mercurial bookmarks', () => {
    const body = JSON.stringify(bitbucketCloudPush([{ new: { type: 'bookmark', name: 'b', target: { hash: SHA } }, old: null }]));
    expect(decide({ 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${hmacHex(SECRETS.bitbucket!, body)}` }, body)).toMatchObject({ kind: 'ignored' });
  });

  it.each([
    ['a body that is a JSON list', '[1, 2]', 'not a JSON object'],
    ['a body that is not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not UTF-8'],
    ['a push without ref', JSON.stringify(githubPush({ ref: undefined })), 'ref must be a non-empty string'],
    ['a ref outside refs/', JSON.stringify(githubPush({ ref: 'main' })), 'ref must be a Git ref'],
    ['a ref with ".."', JSON.stringify(githubPush({ ref: 'refs/heads/../../etc' })), 'ref must be a Git ref'],
    ['a ref with a newline', JSON.stringify(githubPush({ ref: 'refs/heads/main\nx' })), 'ref must be a Git ref'],
    ['an after that is not a commit id', JSON.stringify(githubPush({ after: 'HEAD' })), 'after must be a commit id'],
    ['no repository', JSON.stringify(githubPush({ repository: undefined })), 'repository must be an object'],
    ['a repository whose addresses are all local paths', JSON.stringify(githubPush({ repository: { html_url: '/srv/git/fleet' } })), 'no address the hub can compare'],
    ['a form without a payload field', 'ref=refs%2Fheads%2Fmain', 'exactly one "payload" field'],
  ])('refuses 400 a signed GitHub push with %s', (_name, body, reason) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const contentType = typeof body === 'string' && body.startsWith('ref=') ? 'application/x-www-form-urlencoded' : 'application/json';
    const headers = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(SECRETS.github!, bytes)}`, 'content-type': contentType };
    const decision = readWebhookDelivery({ headers, body: { kind: 'bytes', bytes } }, SECRETS);
    expect(refusal(decision)).toEqual({ status: 400, code: 'INVALID_PAYLOAD' });
    expect(decision.kind === 'refused' && decision.message).toContain(reason);
  });

  it('refuses 400 a signed GitLab push sent as a form (GitLab sends JSON only)', () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(gitlabPush()))}`;
    const decision = decide({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRETS.gitlab!, 'content-type': 'application/x-www-form-urlencoded' }, body);
    expect(refusal(decision)).toEqual({ status: 400, code: 'INVALID_PAYLOAD' });
  });

  it(`refuses 400 a signed push that moves more than ${MAX_REFS_PER_DELIVERY} refs`, () => {
    const change = { ref: { id: 'refs/heads/main' }, toHash: SHA, type: 'UPDATE' };
    const body = JSON.stringify(bitbucketServerPush(Array.from({ length: MAX_REFS_PER_DELIVERY + 1 }, () => change)));
    const decision = decide({ 'x-event-key': 'repo:refs_changed', 'x-hub-signature': `sha256=${hmacHex(SECRETS.bitbucket!, body)}` }, body);
    expect(refusal(decision)).toEqual({ status: 400, code: 'INVALID_PAYLOAD' });
  });

  it('keeps control characters out of the pusher and bounds its length', () => {
    const body = JSON.stringify(githubPush({ pusher: { name: `mallory\u001b[31m\n${'x'.repeat(500)}` } }));
    const decision = decide(githubHeaders('push', body), body);
    const pusher = decision.kind === 'push' ? decision.pushes[0]!.pusher : '';
    expect(pusher.startsWith('mallory[31m')).toBe(true);
    expect(pusher.length).toBe(128);
  });

  it('never puts the secret or the signature in a refusal message', () => {
    const body = JSON.stringify(githubPush());
    const forged = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex('attacker-secret-00000000', body)}` };
    const messages = [decide(forged, body), decide({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'guess-0000000000000' }, '{}')].map((d) => (d.kind === 'refused' ? d.message : ''));
    for (const message of messages) {
      expect(message).not.toContain(SECRETS.github);
      expect(message).not.toContain(SECRETS.gitlab);
      expect(message).not.toContain(hmacHex('attacker-secret-00000000', body));
      expect(message).not.toContain('guess-0000000000000');
    }
  });
});
