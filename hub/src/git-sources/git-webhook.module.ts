import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { GitWebhookConfig } from '../config/git-webhook-config';
import { installWebhookBodyReader } from './git-webhook-body';
import { GitWebhookController } from './git-webhook.controller';
import { GitWebhookMetrics } from './git-webhook-metrics';
import { GIT_WEBHOOK_CONFIG, GitWebhookService } from './git-webhook.service';

/**
 * The push webhook endpoint (POST /api/webhook). It expects from the application, as global
 * providers (a global module's exports): `GIT_PUSH_TARGETS` (see push-targets.ts), `AuditService`,
 * `Metrics` (the registry /metrics serves) and `Clock`. Importing it also installs the raw-body
 * reader of its route on the Fastify instance (before the server starts listening).
 */
@Module({})
export class GitWebhookModule implements OnModuleInit {
  constructor(
    private readonly http: HttpAdapterHost,
    @Inject(GIT_WEBHOOK_CONFIG) private readonly config: GitWebhookConfig,
  ) {}

  static forRoot(config: GitWebhookConfig): DynamicModule {
    return {
      module: GitWebhookModule,
      controllers: [GitWebhookController],
      providers: [{ provide: GIT_WEBHOOK_CONFIG, useValue: config }, GitWebhookService, GitWebhookMetrics],
    };
  }

  onModuleInit(): void {
    installWebhookBodyReader(this.http.httpAdapter.getInstance(), this.config.maxBodyBytes);
  }
}
