/**
 * Whether a webhook delivery was sent by the holder of the provider's secret. Pure (HMAC over the
 * bytes given; no clock, no I/O).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { displayName, type GitProvider, type WebhookHeaders } from './detect-provider';

/** Why a delivery's signature or token does not verify. Messages name headers, never their values. */
export type SignatureRefusal = { readonly kind: 'missing' | 'malformed' | 'mismatch'; readonly message: string };

/** How each provider proves a delivery: an HMAC-SHA256 of the raw body in hex, or (GitLab) the token itself. */
const SCHEMES: Readonly<Record<GitProvider, { readonly headers: readonly string[]; readonly prefix: string } | 'token'>> = {
  github: { headers: ['x-hub-signature-256'], prefix: 'sha256=' },
  // Forgejo sends the same HMAC under both names; its own is read first, Gitea's when an older
  // release sent only that one.
  forgejo: { headers: ['x-forgejo-signature', 'x-gitea-signature'], prefix: '' },
  gitea: { headers: ['x-gitea-signature'], prefix: '' },
  // Cloud and Server/Data Center both send `X-Hub-Signature: sha256=<hex>` when the webhook has a secret.
  bitbucket: { headers: ['x-hub-signature'], prefix: 'sha256=' },
  gitlab: 'token',
};

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Checks `body` (the bytes as received, before any parsing) against `secret` by `provider`'s scheme.
 * HMACs and tokens are compared in constant time (a token through SHA-256 digests, so that its
 * length does not show either). Undefined: verified.
 */
export function verifyWebhookSignature(provider: GitProvider, headers: WebhookHeaders, body: Uint8Array, secret: string): SignatureRefusal | undefined {
  const scheme = SCHEMES[provider];
  if (scheme === 'token') {
    const token = headers['x-gitlab-token'];
    if (token === undefined) return { kind: 'missing', message: 'the X-Gitlab-Token header is missing: set the webhook\'s secret token in GitLab to the hub\'s gitlab secret' };
    if (typeof token !== 'string') return { kind: 'malformed', message: 'the X-Gitlab-Token header is repeated' };
    return isSameDigest(sha256(token), sha256(secret)) ? undefined : { kind: 'mismatch', message: 'the X-Gitlab-Token header does not match the hub\'s gitlab secret' };
  }
  const name = scheme.headers.find((header) => headers[header] !== undefined);
  if (name === undefined) {
    return { kind: 'missing', message: `the ${displayName(scheme.headers[0]!)} header is missing: give the webhook a secret in ${providerName(provider)} equal to the hub's ${provider === 'forgejo' ? 'gitea' : provider} secret` };
  }
  const value = headers[name];
  if (typeof value !== 'string') return { kind: 'malformed', message: `the ${displayName(name)} header is repeated` };
  const hex = value.trim();
  if (!hex.startsWith(scheme.prefix) || !HEX_SHA256.test(hex.slice(scheme.prefix.length))) {
    return { kind: 'malformed', message: `the ${displayName(name)} header is not ${scheme.prefix === '' ? 'a' : `"${scheme.prefix}" and a`} hex HMAC-SHA256` };
  }
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hex.slice(scheme.prefix.length), 'hex');
  return isSameDigest(given, expected) ? undefined : { kind: 'mismatch', message: `the ${displayName(name)} signature does not match the body and the hub's ${provider === 'forgejo' ? 'gitea' : provider} secret` };
}

/** The hex HMAC-SHA256 a provider sends for `body` under `secret` (what tests and the README's curl examples compute). */
export function hmacHex(secret: string, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function isSameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function providerName(provider: GitProvider): string {
  return { github: 'GitHub', gitlab: 'GitLab', gitea: 'Gitea', forgejo: 'Forgejo', bitbucket: 'Bitbucket' }[provider];
}
