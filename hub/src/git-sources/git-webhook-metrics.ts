import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { Metrics } from '../observability/metrics';

/** Webhook metrics, on the hub's registry (served at /metrics beside the others). */
@Injectable()
export class GitWebhookMetrics {
  /**
   * Deliveries by `provider` (github, gitlab, gitea, forgejo, bitbucket; `unknown` when none could be
   * told) and `outcome`: accepted, ping, ignored, or the refusal code in lower case (invalid_signature,
   * missing_signature, no_secret, payload_too_large, invalid_payload, unknown_provider,
   * secrets_unavailable, busy, internal). Counts every delivery, audited or not.
   */
  readonly deliveries: Counter<'provider' | 'outcome'>;

  constructor(metrics: Metrics) {
    this.deliveries = new Counter({
      name: 'flotilla_git_webhook_deliveries_total',
      help: 'Git webhook deliveries received, by provider and outcome.',
      labelNames: ['provider', 'outcome'] as const,
      registers: [metrics.registry],
    });
  }
}
