/**
 * The whole decision on one webhook delivery, before any I/O: who sent it, whether it verifies, what it
 * asks. Pure: the caller reads the body (bounded), looks the pushes' sources up and answers.
 */
import { SECRET_OF, detectProvider, type GitProvider, type GitWebhookSecretName, type WebhookHeaders } from './detect-provider';
import { parseWebhookEvent, type GitPush } from './parse-push';
import { verifyWebhookSignature } from './verify-webhook-signature';

/** The webhook route on the hub's HTTP server. */
export const GIT_WEBHOOK_ROUTE = '/api/webhook';

/** The hub's webhook secrets, by provider family; a provider without one is refused. */
export type GitWebhookSecrets = Readonly<Partial<Record<GitWebhookSecretName, string>>>;

/** A delivery as received. */
export interface WebhookDelivery {
  readonly headers: WebhookHeaders;
  /** The raw body; `tooLarge` when it was longer than the limit (and not read to the end). */
  readonly body: { readonly kind: 'bytes'; readonly bytes: Uint8Array } | { readonly kind: 'tooLarge'; readonly limitBytes: number };
}

/** Stable codes of refused deliveries, as the HTTP answer and the audit reason carry them. */
export type WebhookRefusalCode = 'UNKNOWN_PROVIDER' | 'NO_SECRET' | 'MISSING_SIGNATURE' | 'INVALID_SIGNATURE' | 'PAYLOAD_TOO_LARGE' | 'INVALID_PAYLOAD';

/** What to do with a delivery. `provider` is undefined only when no provider could be told. */
export type WebhookDecision =
  | { readonly kind: 'refused'; readonly provider: GitProvider | undefined; readonly status: 400 | 401 | 403 | 413; readonly code: WebhookRefusalCode; readonly message: string }
  | { readonly kind: 'ping'; readonly provider: GitProvider }
  | { readonly kind: 'ignored'; readonly provider: GitProvider; readonly reason: string }
  | { readonly kind: 'push'; readonly provider: GitProvider; readonly pushes: readonly GitPush[] };

/**
 * Decides on `delivery`, in this order, so that nothing from an unverified sender is parsed:
 * 1. the provider from the event headers (none: 400 UNKNOWN_PROVIDER);
 * 2. the provider's secret (none configured: 403 NO_SECRET; such deliveries are never accepted unverified);
 * 3. the body's size (over the limit: 413 PAYLOAD_TOO_LARGE: it cannot be verified without being read whole);
 * 4. the signature or token over the raw body (absent: 401 MISSING_SIGNATURE; malformed or wrong: 401 INVALID_SIGNATURE);
 * 5. the event: a ping, an event that is not a push (ignored), or a push whose body must parse (else 400 INVALID_PAYLOAD).
 */
export function readWebhookDelivery(delivery: WebhookDelivery, secrets: GitWebhookSecrets): WebhookDecision {
  const detected = detectProvider(delivery.headers);
  if (detected.kind === 'unknown') {
    return { kind: 'refused', provider: undefined, status: 400, code: 'UNKNOWN_PROVIDER', message: `Not a webhook the hub understands: ${detected.reason}.` };
  }
  const { provider } = detected.delivery;
  const secretName = SECRET_OF[provider];
  const secret = secrets[secretName];
  if (secret === undefined) {
    return {
      kind: 'refused',
      provider,
      status: 403,
      code: 'NO_SECRET',
      message: `The hub has no ${secretName} webhook secret, so it accepts no ${provider} webhooks: add "${secretName}" to the file named by FLOTILLA_GIT_WEBHOOK_SECRETS_FILE.`,
    };
  }
  if (delivery.body.kind === 'tooLarge') {
    return { kind: 'refused', provider, status: 413, code: 'PAYLOAD_TOO_LARGE', message: `The body is larger than ${delivery.body.limitBytes} bytes (FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB).` };
  }
  const refusal = verifyWebhookSignature(provider, delivery.headers, delivery.body.bytes, secret);
  if (refusal) {
    return { kind: 'refused', provider, status: 401, code: refusal.kind === 'missing' ? 'MISSING_SIGNATURE' : 'INVALID_SIGNATURE', message: `Refused: ${refusal.message}.` };
  }
  const event = parseWebhookEvent(detected.delivery, headerText(delivery.headers['content-type']), delivery.body.bytes);
  switch (event.kind) {
    case 'ping':
      return { kind: 'ping', provider };
    case 'ignored':
      return { kind: 'ignored', provider, reason: event.reason };
    case 'invalid':
      return { kind: 'refused', provider, status: 400, code: 'INVALID_PAYLOAD', message: `The ${provider} ${detected.delivery.event} payload is not valid: ${event.reason}.` };
    case 'push':
      return { kind: 'push', provider, pushes: event.pushes };
  }
}

function headerText(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.join(', ');
}
