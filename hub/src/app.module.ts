import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AGENT_LINK_PROVIDERS } from './agent-link/agent-link.providers';
import { AgentLinkServer } from './agent-link/agent-link.server';
import { AgentSessions } from './agent-link/agent-sessions';
import { DesiredStateService } from './agent-link/desired-state.service';
import { OutboxRelay } from './agent-link/outbox-relay.service';
import { APP_SET_PROVIDERS } from './app-sets/app-set-providers';
import { AppSetsService } from './app-sets/app-sets.service';
import { GitSourcesService } from './git-sources/git-sources.service';
import { GitSourceSync } from './git-sources/git-source-sync';
import { AppSetSourceResolver, GitSourcesResolver } from './git-sources/git-sources.resolver';
import { GIT_PUSH_TARGETS } from './git-sources/push-targets';
import { GitWebhookModule } from './git-sources/git-webhook.module';
import { Clock } from './clock';
import { AgentCredentialCheck } from './agent-link/agent-credential-check.service';
import { AgentCredentials } from './clusters/agent-credentials.service';
import { ClusterDeregistrations } from './clusters/cluster-deregistrations';
import { ClustersService } from './clusters/clusters.service';
import { HUB_CONFIG, type HubConfig } from './config/hub-config';
import { dataSourceOptions } from './database/data-source-options';
import { GraphqlErrorsFilter } from './graphql/errors.filter';
import { GraphqlLimits } from './graphql/limits/graphql-limits';
import { RESOLVERS, SCALARS } from './graphql/resolvers';
import { Metrics } from './observability/metrics';
import { ObservabilityController } from './observability/observability.controller';
import { AppViewsService } from './reports/app-views.service';
import { ApiTokensService } from './auth/api-tokens.service';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator';
import { httpContext, websocketConnect } from './auth/http-edge';
import { AuditInterceptor } from './audit/audit.interceptor';
import { AuditService } from './audit/audit.service';
import { AgentInstaller } from './clusters/agent-installer.service';
import { ClusterAccess } from './clusters/cluster-access';
import { ProjectsService } from './projects/projects.service';
import { ReportsService } from './reports/reports.service';
import { RolloutEngine } from './rollouts/rollout-engine.service';
import { RolloutsService } from './rollouts/rollouts.service';
import { AutoTriggerHook } from './rollouts/auto-trigger-hook';
import { AutoTriggerService } from './rollouts/auto-trigger.service';
import { AppSetRolloutStatus } from './rollouts/app-set-rollout-status.service';
import { AgentCertificates } from './trust/agent-certificates.service';
import { AgentLinkCa } from './trust/agent-link-ca.service';

/**
 * The hub as one Nest module. Features keep their own folders (service, resolver, entity, model); they
 * are wired here rather than in per-feature modules because their services call each other in both
 * directions (staging needs clusters, cluster registration re-stages AppSets), which Nest modules
 * would only express with forwardRef.
 */
@Module({})
export class AppModule {
  /**
   * `databaseUrl` is the resolved URL: the configured one, or the embedded database's. `appRef` is
   * filled in once the application exists: WebSocket connects authenticate through it.
   */
  static forRoot(config: HubConfig, databaseUrl: string, poolSize: number, appRef: { current?: NestFastifyApplication }): DynamicModule {
    const app = () => {
      if (!appRef.current) throw new Error('the hub is not started yet');
      return appRef.current;
    };
    // Cost, size, depth and rate limits (graphql/limits): in the module options, the HTTP hooks and the WebSocket screen.
    const limits = new GraphqlLimits(config.graphqlLimits);
    return {
      module: AppModule,
      // Global, exporting what the Git webhook module needs from the application (it is imported below).
      global: true,
      exports: [GIT_PUSH_TARGETS, AuditService, Metrics, Clock],
      imports: [
        GitWebhookModule.forRoot(config.gitWebhook),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, poolSize)),
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          sortSchema: true,
          // GraphiQL is a page of the built dashboard, with nothing from a CDN (http/graphiql-page.ts).
          graphiql: false,
          ...limits.mercuriusOptions(),
          // Every HTTP request was authenticated by the edge (auth/http-edge.ts) before GraphQL runs.
          context: (request: FastifyRequest) => httpContext(request),
          // graphql-ws over WebSocket at /graphql (rolloutProgress); the token comes in connection_init.
          subscription: { onConnect: websocketConnect(app), context: limits.websocketContext() },
        }),
      ],
      controllers: [ObservabilityController],
      providers: [
        { provide: HUB_CONFIG, useValue: config },
        { provide: GraphqlLimits, useValue: limits },
        { provide: APP_FILTER, useClass: GraphqlErrorsFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        ApiTokensService,
        Authenticator,
        AuditService,
        ProjectsService,
        ClusterAccess,
        Clock,
        Metrics,
        ClustersService,
        ClusterDeregistrations,
        AgentCredentials,
        AppSetsService,
        ...APP_SET_PROVIDERS,
        RolloutsService,
        RolloutEngine,
        AutoTriggerHook,
        AutoTriggerService,
        AppSetRolloutStatus,
        ReportsService,
        AppViewsService,
        AgentLinkCa,
        AgentInstaller,
        AgentCertificates,
        AgentSessions,
        AgentCredentialCheck,
        DesiredStateService,
        OutboxRelay,
        AgentLinkServer,
        ...AGENT_LINK_PROVIDERS,
        GitSourceSync,
        GitSourcesService,
        { provide: GIT_PUSH_TARGETS, useExisting: GitSourcesService },
        GitSourcesResolver,
        AppSetSourceResolver,
        ...RESOLVERS,
        ...SCALARS,
      ],
    };
  }
}
