import { parse } from 'yaml';
import type { GitWebhookSecretName } from '../core/gitops/detect-provider';
import type { GitWebhookSecrets } from '../core/gitops/read-webhook-delivery';

/** How the hub receives push webhooks from Git hosts (POST /api/webhook; see git-sources/git-webhook.controller.ts). */
export interface GitWebhookConfig {
  /**
   * FLOTILLA_GIT_WEBHOOK_SECRETS_FILE: a YAML or JSON file (a mounted Secret) holding one secret per
   * provider, `{ github, gitlab, gitea, bitbucket }` (Forgejo uses `gitea`'s). Read when the hub
   * starts and again whenever it changes, so a rotated Secret needs no restart. Unset: every webhook
   * is refused (the hub never accepts an unverified one).
   */
  readonly secretsFile?: string;
  /** FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB, in bytes: the largest delivery read; a longer one is refused 413. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_GIT_WEBHOOK_MAX_BODY_KB = 1024;
/** GitHub caps payloads at 25 MB; nothing larger is ever a push. */
const MAX_GIT_WEBHOOK_MAX_BODY_KB = 25 * 1024;

/** Reads the FLOTILLA_GIT_WEBHOOK_* variables; bad values are added to `problems`. The secrets file itself is read by the webhook (see {@link parseGitWebhookSecrets}). */
export function loadGitWebhookConfig(env: Record<string, string | undefined>, problems: string[]): GitWebhookConfig {
  const secretsFile = env['FLOTILLA_GIT_WEBHOOK_SECRETS_FILE']?.trim() || undefined;
  if (secretsFile !== undefined && !secretsFile.startsWith('/')) problems.push('FLOTILLA_GIT_WEBHOOK_SECRETS_FILE must be an absolute path');
  const raw = env['FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB']?.trim();
  let maxBodyKb = DEFAULT_GIT_WEBHOOK_MAX_BODY_KB;
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > MAX_GIT_WEBHOOK_MAX_BODY_KB) problems.push(`FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB must be an integer from 1 to ${MAX_GIT_WEBHOOK_MAX_BODY_KB} (got "${raw.slice(0, 20)}")`);
    else maxBodyKb = value;
  }
  return { ...(secretsFile !== undefined ? { secretsFile } : {}), maxBodyBytes: maxBodyKb * 1024 };
}

/** The keys a secrets file may hold. */
export const GIT_WEBHOOK_SECRET_NAMES: readonly GitWebhookSecretName[] = ['github', 'gitlab', 'gitea', 'bitbucket'];
/** Shorter secrets are guessable; providers generate or accept far longer ones. */
export const MIN_GIT_WEBHOOK_SECRET_LENGTH = 16;
const MAX_GIT_WEBHOOK_SECRET_LENGTH = 1024;
/** A secrets file is a handful of lines. */
export const MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES = 64 * 1024;

/**
 * Parses the text of the secrets file: a YAML (or JSON) mapping of provider to secret. Every problem is
 * listed at once; none repeats a secret. An empty mapping is allowed (every webhook refused), an
 * unknown key, a value that is not a string, shorter than {@link MIN_GIT_WEBHOOK_SECRET_LENGTH}, or with
 * whitespace or control characters at either end (a YAML block scalar adds a newline) is not.
 */
export function parseGitWebhookSecrets(text: string): { readonly kind: 'ok'; readonly secrets: GitWebhookSecrets } | { readonly kind: 'invalid'; readonly problems: readonly string[] } {
  if (text.length > MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES) return { kind: 'invalid', problems: [`the file is larger than ${MAX_GIT_WEBHOOK_SECRETS_FILE_BYTES} bytes`] };
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0, prettyErrors: false });
  } catch (error) {
    // yaml's messages quote positions, not the text: they cannot carry a secret.
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
    return { kind: 'invalid', problems: [`it is not YAML or JSON: ${first}`] };
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) return { kind: 'invalid', problems: [`it must be a mapping of provider to secret, such as { github: "…", gitlab: "…" }`] };
  const problems: string[] = [];
  const secrets: Partial<Record<GitWebhookSecretName, string>> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!GIT_WEBHOOK_SECRET_NAMES.includes(key as GitWebhookSecretName)) {
      problems.push(`unknown key ${JSON.stringify(key.slice(0, 40))}: the keys are ${GIT_WEBHOOK_SECRET_NAMES.join(', ')} (Forgejo uses gitea's)`);
      continue;
    }
    if (typeof value !== 'string') problems.push(`${key} must be a string`);
    else if (value.length < MIN_GIT_WEBHOOK_SECRET_LENGTH || value.length > MAX_GIT_WEBHOOK_SECRET_LENGTH) problems.push(`${key} must be ${MIN_GIT_WEBHOOK_SECRET_LENGTH} to ${MAX_GIT_WEBHOOK_SECRET_LENGTH} characters long (e.g. \`openssl rand -hex 32\`)`);
    // eslint-disable-next-line no-control-regex
    else if (/^[\s\u0000-\u001f]|[\s\u0000-\u001f]$/.test(value)) problems.push(`${key} begins or ends with whitespace (a YAML block scalar adds a newline: quote the value or use "|-")`);
    else secrets[key as GitWebhookSecretName] = value;
  }
  return problems.length > 0 ? { kind: 'invalid', problems } : { kind: 'ok', secrets };
}
