import { Controller, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GIT_WEBHOOK_ROUTE } from '../core/gitops/read-webhook-delivery';
import { RAW_WEBHOOK_BODY, webhookBodyOf } from './git-webhook-body';
import { GitWebhookService } from './git-webhook.service';

/**
 * POST /api/webhook: push events from GitHub, GitLab, Gitea/Forgejo and Bitbucket. Not behind the API
 * token (providers send none; see auth/http-edge.ts) but behind each provider's signature or token,
 * checked over the raw body that git-webhook-body.ts reads.
 */
@Controller()
export class GitWebhookController {
  constructor(private readonly webhooks: GitWebhookService) {}

  @Post(GIT_WEBHOOK_ROUTE)
  @RouteConfig(RAW_WEBHOOK_BODY)
  async receive(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = webhookBodyOf(request);
    // The original headers: the body reader replaced Fastify's view of the body-related ones.
    const answer = await this.webhooks.receive({ headers: { ...request.raw.headers, 'content-type': body.contentType }, body, remoteAddress: request.ip ?? '' });
    if (answer.closeConnection) void reply.header('connection', 'close');
    if (answer.retryAfterSeconds !== undefined) void reply.header('retry-after', String(answer.retryAfterSeconds));
    await reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  }
}
