/**
 * What a verified webhook delivery says: the refs a push moved, in one shape for every provider.
 * Pure; reads only the body it is given.
 */
import type { DetectedDelivery, GitProvider } from './detect-provider';
import { MAX_REPO_URL_LENGTH, normaliseRepoURL } from './repo-url';

/** One ref a push moved. */
export interface GitPush {
  readonly provider: GitProvider;
  /** The repository's addresses as the provider gave them (web, HTTP clone, SSH clone), each one that {@link normaliseRepoURL} accepts, without repeats. */
  readonly repoURLs: readonly string[];
  /** The full ref: `refs/heads/main`, `refs/tags/v1.2.0`. */
  readonly ref: string;
  /** The commit the ref points at now (40 or 64 hex digits, lower case); all zeros when the ref was deleted. */
  readonly after: string;
  readonly deleted: boolean;
  /** Who pushed, as the provider names them (printable, at most {@link MAX_PUSHER_LENGTH} characters; '' when not given). */
  readonly pusher: string;
}

/** What a delivery asks of the hub. */
export type WebhookEvent =
  | { readonly kind: 'push'; readonly pushes: readonly GitPush[] }
  /** A provider checking that the hook works (GitHub `ping`, Bitbucket Server `diagnostics:ping`): answered, nothing else. */
  | { readonly kind: 'ping' }
  /** An event that is not a push (issues, pull requests, …), or a push that moved no branch or tag: answered, nothing else. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** A body that is not what the provider sends for the event: refused. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** The most refs one delivery may move (Bitbucket sends several per push); more is refused. */
export const MAX_REFS_PER_DELIVERY = 100;
/** The longest pusher name kept; longer ones are cut. */
export const MAX_PUSHER_LENGTH = 128;
/** Git allows long ref names; none that a source follows is longer than this. */
const MAX_REF_LENGTH = 1024;
const ZERO_SHA = /^0+$/;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

type Json = Record<string, unknown>;

/**
 * Reads the body of a verified delivery: `application/json`, or (GitHub, Gitea, Forgejo) a form with the
 * JSON in its `payload` field. A body that is not UTF-8, not JSON, not an object, or lacks what the
 * event must carry is `invalid` with a reason that names the field.
 */
export function parseWebhookEvent(delivery: DetectedDelivery, contentType: string | undefined, body: Uint8Array): WebhookEvent {
  const handler = eventHandler(delivery);
  if (handler === undefined) return { kind: 'ignored', reason: `${delivery.provider} event "${delivery.event}" is not a push` };
  if (handler === 'ping') return { kind: 'ping' };
  const json = readJson(delivery.provider, contentType, body);
  if (typeof json === 'string') return { kind: 'invalid', reason: json };
  try {
    const pushes = handler(json, delivery.provider);
    if (pushes.length === 0) return { kind: 'ignored', reason: 'the push moved no branch or tag' };
    return { kind: 'push', pushes };
  } catch (error) {
    if (error instanceof PayloadError) return { kind: 'invalid', reason: error.message };
    throw error;
  }
}

type PushReader = (json: Json, provider: GitProvider) => GitPush[];

function eventHandler({ provider, event }: DetectedDelivery): PushReader | 'ping' | undefined {
  switch (provider) {
    case 'github':
      return event === 'push' ? readGithubLikePush : event === 'ping' ? 'ping' : undefined;
    case 'gitea':
    case 'forgejo':
      return event === 'push' ? readGithubLikePush : undefined;
    case 'gitlab':
      return event === 'Push Hook' || event === 'Tag Push Hook' ? readGitlabPush : undefined;
    case 'bitbucket':
      return event === 'repo:push' ? readBitbucketCloudPush : event === 'repo:refs_changed' ? readBitbucketServerPush : event === 'diagnostics:ping' ? 'ping' : undefined;
  }
}

/** GitHub, Gitea and Forgejo: `ref`, `after`, `deleted`, `repository.{html_url,clone_url,ssh_url,…}`, `pusher`. */
function readGithubLikePush(json: Json, provider: GitProvider): GitPush[] {
  const repository = object(json, 'repository');
  const urls = repoURLs(['html_url', 'clone_url', 'ssh_url', 'git_url', 'url'].map((key) => optionalString(repository, key)));
  const after = sha(json, 'after');
  const pusherObject = optionalObject(json, 'pusher');
  const senderObject = optionalObject(json, 'sender');
  const pusher =
    (pusherObject && (optionalString(pusherObject, 'login') ?? optionalString(pusherObject, 'username') ?? optionalString(pusherObject, 'name'))) ??
    (senderObject && optionalString(senderObject, 'login'));
  return [{ provider, repoURLs: urls, ref: ref(string(json, 'ref'), 'ref'), after, deleted: json['deleted'] === true || ZERO_SHA.test(after), pusher: cleanPusher(pusher) }];
}

/** GitLab `Push Hook` / `Tag Push Hook`: `ref`, `after`, `project.{web_url,git_http_url,git_ssh_url}`, `user_username`. */
function readGitlabPush(json: Json, provider: GitProvider): GitPush[] {
  const kind = string(json, 'object_kind');
  if (kind !== 'push' && kind !== 'tag_push') throw new PayloadError(`object_kind must be "push" or "tag_push" (got ${quote(kind)})`);
  const project = object(json, 'project');
  const repository = optionalObject(json, 'repository');
  const urls = repoURLs([
    ...['web_url', 'git_http_url', 'git_ssh_url', 'http_url', 'ssh_url'].map((key) => optionalString(project, key)),
    ...(repository ? ['homepage', 'git_http_url', 'git_ssh_url', 'url'].map((key) => optionalString(repository, key)) : []),
  ]);
  const after = sha(json, 'after');
  return [{ provider, repoURLs: urls, ref: ref(string(json, 'ref'), 'ref'), after, deleted: ZERO_SHA.test(after), pusher: cleanPusher(optionalString(json, 'user_username') ?? optionalString(json, 'user_name')) }];
}

/** Bitbucket Cloud `repo:push`: `push.changes[].{new,old}.{type,name,target.hash}`, `repository.links.html.href`, `actor`. */
function readBitbucketCloudPush(json: Json, provider: GitProvider): GitPush[] {
  const repository = object(json, 'repository');
  const links = optionalObject(repository, 'links');
  const html = links && optionalObject(links, 'html');
  const urls = repoURLs([html && optionalString(html, 'href')]);
  const actor = optionalObject(json, 'actor');
  const pusher = cleanPusher(actor && (optionalString(actor, 'nickname') ?? optionalString(actor, 'display_name')));
  const changes = list(object(json, 'push'), 'changes', 'push.');
  const pushes: GitPush[] = [];
  changes.forEach((raw, index) => {
    const at = `push.changes[${index}].`;
    if (!isObject(raw)) throw new PayloadError(`${at.slice(0, -1)} must be an object`);
    const moved = optionalObject(raw, 'new');
    const gone = optionalObject(raw, 'old');
    const side = moved ?? gone;
    if (!side) throw new PayloadError(`${at}new and ${at}old are both missing`);
    const sideAt = `${at}${moved ? 'new' : 'old'}.`;
    const type = string(side, 'type', sideAt);
    // Mercurial-era `named_branch` and `bookmark` name no Git ref: nothing a source follows.
    if (type !== 'branch' && type !== 'tag') return;
    const name = string(side, 'name', sideAt);
    const after = moved ? sha(object(moved, 'target', sideAt), 'hash', `${sideAt}target.`) : '0'.repeat(40);
    pushes.push({ provider, repoURLs: urls, ref: ref(`${type === 'tag' ? 'refs/tags/' : 'refs/heads/'}${name}`, `${sideAt}name`), after, deleted: !moved, pusher });
  });
  return pushes;
}

/** Bitbucket Server/Data Center `repo:refs_changed`: `changes[].{ref.id,toHash,type}`, `repository.links.clone[].href`, `actor`. */
function readBitbucketServerPush(json: Json, provider: GitProvider): GitPush[] {
  const repository = object(json, 'repository');
  const links = optionalObject(repository, 'links');
  const clone = links && links['clone'] !== undefined ? list(links, 'clone', 'repository.links.') : [];
  const urls = repoURLs(clone.map((entry) => (isObject(entry) ? optionalString(entry, 'href') : undefined)));
  const actor = optionalObject(json, 'actor');
  const pusher = cleanPusher(actor && (optionalString(actor, 'name') ?? optionalString(actor, 'displayName')));
  const changes = list(json, 'changes', '');
  return changes.map((raw, index) => {
    const at = `changes[${index}].`;
    if (!isObject(raw)) throw new PayloadError(`${at.slice(0, -1)} must be an object`);
    const refObject = optionalObject(raw, 'ref');
    const id = (refObject && optionalString(refObject, 'id')) ?? string(raw, 'refId', at);
    const type = optionalString(raw, 'type');
    const after = sha(raw, 'toHash', at);
    return { provider, repoURLs: urls, ref: ref(id, `${at}ref.id`), after, deleted: type === 'DELETE' || ZERO_SHA.test(after), pusher };
  });
}

class PayloadError extends Error {}

/** The JSON object of the body, or why there is none. */
function readJson(provider: GitProvider, contentType: string | undefined, body: Uint8Array): Json | string {
  const mediaType = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return 'the body is not UTF-8 text';
  }
  if (mediaType === 'application/x-www-form-urlencoded' && (provider === 'github' || provider === 'gitea' || provider === 'forgejo')) {
    const payload = new URLSearchParams(text).getAll('payload');
    if (payload.length !== 1) return 'a form-encoded delivery must carry its JSON in exactly one "payload" field';
    text = payload[0]!;
  } else if (mediaType !== 'application/json') {
    return `the body must be application/json${provider === 'gitlab' || provider === 'bitbucket' ? '' : ' or application/x-www-form-urlencoded'} (got ${quote(mediaType)})`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  return isObject(value) ? value : 'the body is not a JSON object';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(json: Json, key: string, at = ''): Json {
  const value = json[key];
  if (!isObject(value)) throw new PayloadError(`${at}${key} must be an object`);
  return value;
}

function optionalObject(json: Json, key: string): Json | undefined {
  const value = json[key];
  return isObject(value) ? value : undefined;
}

function list(json: Json, key: string, at: string): unknown[] {
  const value = json[key];
  if (!Array.isArray(value)) throw new PayloadError(`${at}${key} must be a list`);
  if (value.length > MAX_REFS_PER_DELIVERY) throw new PayloadError(`${at}${key} has ${value.length} entries; at most ${MAX_REFS_PER_DELIVERY} refs per delivery are read`);
  return value;
}

function string(json: Json, key: string, at = ''): string {
  const value = json[key];
  if (typeof value !== 'string' || value === '') throw new PayloadError(`${at}${key} must be a non-empty string`);
  return value;
}

function optionalString(json: Json, key: string): string | undefined {
  const value = json[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sha(json: Json, key: string, at = ''): string {
  const value = string(json, key, at).toLowerCase();
  if (!SHA.test(value)) throw new PayloadError(`${at}${key} must be a commit id (40 or 64 hex digits)`);
  return value;
}

function ref(value: string, at: string): string {
  // eslint-disable-next-line no-control-regex
  if (!value.startsWith('refs/') || value.length > MAX_REF_LENGTH || /[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{/.test(value)) {
    throw new PayloadError(`${at} must be a Git ref such as refs/heads/main (got ${quote(value)})`);
  }
  return value;
}

/** The addresses that name a repository, in order, without repeats; none is refused. */
function repoURLs(candidates: readonly (string | undefined)[]): string[] {
  const urls = [...new Set(candidates.filter((url): url is string => url !== undefined && url.length <= MAX_REPO_URL_LENGTH && normaliseRepoURL(url) !== undefined))];
  if (urls.length === 0) throw new PayloadError('the repository has no address the hub can compare (an http(s), ssh or git URL)');
  return urls;
}

function cleanPusher(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, MAX_PUSHER_LENGTH);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
