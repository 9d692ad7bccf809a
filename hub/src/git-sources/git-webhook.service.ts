import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../clock';
import type { GitWebhookConfig } from '../config/git-webhook-config';
import type { Principal } from '../core/auth/principal';
import { detectProvider, type GitProvider, type WebhookHeaders } from '../core/gitops/detect-provider';
import type { GitPush } from '../core/gitops/parse-push';
import { readWebhookDelivery, type WebhookDecision, type WebhookDelivery } from '../core/gitops/read-webhook-delivery';
import { normaliseRepoURL } from '../core/gitops/repo-url';
import { RateLimiter } from '../graphql/limits/rate-limiter';
import { GitWebhookMetrics } from './git-webhook-metrics';
import { GitWebhookSecretsFile } from './git-webhook-secrets';
import { GIT_PUSH_TARGETS, type GitPushTargets } from './push-targets';

/** The Nest injection token of the {@link GitWebhookConfig} the webhook module was given. */
export const GIT_WEBHOOK_CONFIG = Symbol('GIT_WEBHOOK_CONFIG');

/** One delivery as the controller hands it over. */
export interface ReceivedDelivery {
  readonly headers: WebhookHeaders;
  /** `busy`: too many other bodies were being read; this one was left unread (see git-webhook-body.ts). */
  readonly body: WebhookDelivery['body'] | { readonly kind: 'busy' };
  readonly remoteAddress: string;
}

/** The HTTP answer to a delivery. */
export interface WebhookAnswer {
  readonly status: 200 | 202 | 400 | 401 | 403 | 413 | 500 | 503;
  readonly body: Readonly<Record<string, unknown>>;
  /** A body was left unread: the connection must not be reused. */
  readonly closeConnection: boolean;
  /** Seconds after which a retry may succeed (`Retry-After`). */
  readonly retryAfterSeconds?: number;
}

/**
 * How many deliveries write an audit row, so that a flood costs no more than a trickle of inserts:
 * per sender address, refused deliveries 1 a second (bursts of 20) and accepted ones 10 a second
 * (bursts of 100); from all addresses together, 50 a second (bursts of 200). Every delivery is still
 * counted in the metrics, and the next row written for an address says how many were left out.
 */
const AUDIT_RATES = {
  refusedPerAddress: { perSecond: 1, burst: 20 },
  acceptedPerAddress: { perSecond: 10, burst: 100 },
  overall: { perSecond: 50, burst: 200 },
} as const;
/** Addresses whose buckets and left-out counts are remembered (least recently seen forgotten first). */
const TRACKED_ADDRESSES = 10_000;
/** Delivery ids are quoted in audit rows when they look like one. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;
const DELIVERY_ID_HEADERS = ['x-github-delivery', 'x-gitlab-event-uuid', 'x-forgejo-delivery', 'x-gitea-delivery', 'x-request-uuid', 'x-request-id'];
/** Most source names listed in one audit message. */
const LISTED_SOURCES = 20;

/**
 * Push webhooks: verifies a delivery (core's {@link readWebhookDelivery}), asks the Git sources that
 * follow the pushed repository and ref for a sync, and audits the outcome. A push is only a hint:
 * the sync reads the source's own repository at its own revision, never the delivery's commit, so a
 * forged or replayed push can at most cause a sync.
 */
@Injectable()
export class GitWebhookService implements OnModuleInit {
  private readonly log = new Logger('GitWebhook');
  private readonly secrets: GitWebhookSecretsFile;
  private readonly refusedAudits = new RateLimiter(AUDIT_RATES.refusedPerAddress, TRACKED_ADDRESSES);
  private readonly acceptedAudits = new RateLimiter(AUDIT_RATES.acceptedPerAddress, TRACKED_ADDRESSES);
  private readonly overallAudits = new RateLimiter(AUDIT_RATES.overall, 1);
  private readonly leftOut = new LRUCache<string, number>({ max: TRACKED_ADDRESSES });
  private lastSecretsProblem: string | undefined;

  constructor(
    @Inject(GIT_WEBHOOK_CONFIG) config: GitWebhookConfig,
    @Inject(GIT_PUSH_TARGETS) private readonly targets: GitPushTargets,
    private readonly audit: AuditService,
    private readonly metrics: GitWebhookMetrics,
    private readonly clock: Clock,
  ) {
    this.secrets = new GitWebhookSecretsFile(config.secretsFile);
  }

  /** Reads the secrets file once at start: a broken file stops the hub with the problems listed, rather than refusing every push later. */
  async onModuleInit(): Promise<void> {
    const secrets = await this.secrets.current();
    const configured = Object.keys(secrets);
    this.log.log(configured.length > 0 ? `accepting push webhooks verified with the ${configured.join(', ')} secret(s)` : 'no webhook secrets configured (FLOTILLA_GIT_WEBHOOK_SECRETS_FILE): every push webhook is refused');
  }

  async receive(delivery: ReceivedDelivery): Promise<WebhookAnswer> {
    const { body } = delivery;
    if (body.kind === 'busy') {
      const detected = detectProvider(delivery.headers);
      const provider = detected.kind === 'detected' ? detected.delivery.provider : undefined;
      this.count(provider, 'busy');
      await this.record(delivery, provider, 'FAILED', 'BUSY', 'too many webhook bodies were being read at once; this one was not read', null);
      return { ...answer(503, { error: { code: 'BUSY', message: 'The hub is reading too many webhook deliveries at once; retry shortly.' } }), closeConnection: true, retryAfterSeconds: 1 };
    }
    let decision: WebhookDecision;
    try {
      decision = readWebhookDelivery({ headers: delivery.headers, body }, await this.secrets.current());
      this.lastSecretsProblem = undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // Logged once per problem, not once per delivery: a flood against a broken file is not a flood of log lines.
      if (reason !== this.lastSecretsProblem) this.log.error(`refusing webhooks until the secrets file is fixed: ${reason}`);
      this.lastSecretsProblem = reason;
      await this.record(delivery, undefined, 'FAILED', 'SECRETS_UNAVAILABLE', 'the webhook secrets file cannot be used', null);
      this.count(undefined, 'secrets_unavailable');
      return answer(503, { error: { code: 'SECRETS_UNAVAILABLE', message: 'The hub cannot read its webhook secrets; try again later.' } });
    }
    switch (decision.kind) {
      case 'refused': {
        this.count(decision.provider, decision.code.toLowerCase());
        await this.record(delivery, decision.provider, decision.status === 401 || decision.status === 403 ? 'DENIED' : 'FAILED', decision.code, decision.message, null);
        return { ...answer(decision.status, { error: { code: decision.code, message: decision.message } }), closeConnection: decision.code === 'PAYLOAD_TOO_LARGE' };
      }
      case 'ping':
        this.count(decision.provider, 'ping');
        return answer(200, { status: 'ok', message: `The hub verified this ${decision.provider} webhook; it will act on push events.` });
      case 'ignored':
        this.count(decision.provider, 'ignored');
        return answer(200, { status: 'ignored', message: `Nothing to do: ${decision.reason}.` });
      case 'push':
        return this.push(delivery, decision.provider, decision.pushes);
    }
  }

  private async push(delivery: ReceivedDelivery, provider: GitProvider, pushes: readonly GitPush[]): Promise<WebhookAnswer> {
    const matched = new Map<string, { project: string; cause: string }>();
    try {
      for (const push of pushes) {
        const cause = `${provider} webhook: ${push.deleted ? 'deleted' : `push of ${push.after.slice(0, 12)} to`} ${push.ref}${push.pusher ? ` by ${push.pusher}` : ''}`;
        for (const source of await this.targets.sourcesForPush(push.repoURLs, push.ref)) if (!matched.has(source.name)) matched.set(source.name, { project: source.project, cause });
      }
    } catch (error) {
      this.log.error(`could not look up the Git sources of a ${provider} push: ${error instanceof Error ? error.message : String(error)}`);
      this.count(provider, 'internal');
      await this.record(delivery, provider, 'FAILED', 'INTERNAL', 'the Git sources could not be looked up', null);
      return answer(500, { error: { code: 'INTERNAL', message: 'The hub could not look up its Git sources; the provider may redeliver later.' } });
    }
    for (const [name, { cause }] of matched) this.targets.requestSync(name, cause);
    this.count(provider, 'accepted');
    const projects = new Set([...matched.values()].map((m) => m.project));
    const names = [...matched.keys()].sort();
    const first = pushes[0]!;
    // The normalised address: what a verified sender wrote in its URLs (credentials, say) stays out of the audit trail.
    const what = `push to ${normaliseRepoURL(first.repoURLs[0]!) ?? 'the repository'} (${pushes.map((p) => `${p.ref}${p.deleted ? ' deleted' : ` at ${p.after.slice(0, 12)}`}`).join(', ')})${first.pusher ? ` by ${first.pusher}` : ''}`;
    const outcome = names.length === 0 ? 'no Git source follows it' : `sync requested for ${names.slice(0, LISTED_SOURCES).join(', ')}${names.length > LISTED_SOURCES ? ` and ${names.length - LISTED_SOURCES} more` : ''}`;
    await this.record(delivery, provider, 'SUCCESS', '', `${what}: ${outcome}`, projects.size === 1 ? [...projects][0]! : null);
    return answer(202, { status: 'accepted', sources: matched.size });
  }

  private count(provider: GitProvider | undefined, outcome: string): void {
    this.metrics.deliveries.inc({ provider: provider ?? 'unknown', outcome });
  }

  /** Writes the audit row of a delivery unless its address (or everyone together) is over the audit rate; then it is counted for the next row. */
  private async record(delivery: ReceivedDelivery, provider: GitProvider | undefined, outcome: AuditOutcome, code: string, message: string, project: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    const address = delivery.remoteAddress;
    const perAddress = outcome === 'SUCCESS' ? this.acceptedAudits : this.refusedAudits;
    if (perAddress.take(address, now) !== undefined || this.overallAudits.take('all', now) !== undefined) {
      this.leftOut.set(address, (this.leftOut.get(address) ?? 0) + 1);
      return;
    }
    const skipped = this.leftOut.get(address) ?? 0;
    this.leftOut.delete(address);
    const id = deliveryId(delivery.headers);
    const actor = `webhook:${provider ?? 'unknown'}`;
    // A refusal's row says what was refused; its reason says why.
    const what = outcome === 'SUCCESS' ? message : `refused a ${provider ?? 'webhook'} delivery`;
    const text = `${what}${id ? ` [delivery ${id}]` : ''}${skipped > 0 ? ` (${skipped} earlier deliveries from this address were not audited: over the audit rate)` : ''}`;
    if (outcome !== 'SUCCESS') this.log.warn(`refused a webhook from ${address || 'an unknown address'} (${actor}): ${code}${skipped > 0 ? ` (+${skipped} not logged)` : ''}`);
    await this.audit.record({ principal: webhookPrincipal(actor), kind: 'gitWebhook', project, message: text, outcome, reason: code === '' ? '' : `${code}: ${message}`, remoteAddress: address });
  }
}

function answer(status: WebhookAnswer['status'], body: Record<string, unknown>): WebhookAnswer {
  return { status, body, closeConnection: false };
}

/** Who the audit trail names for a delivery: the provider that sent it, which holds no role anywhere. */
function webhookPrincipal(actor: string): Principal {
  return { kind: 'system', id: actor, name: actor, issuer: null, actor, admin: false, projects: {}, expiresAt: null };
}

function deliveryId(headers: WebhookHeaders): string | undefined {
  for (const name of DELIVERY_ID_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && DELIVERY_ID.test(value)) return value;
  }
  return undefined;
}
