import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AgentLinkServer } from './agent-link/agent-link.server';
import { AppModule } from './app.module';
import type { HubConfig } from './config/hub-config';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './database/embedded-database';
import { migrate } from './database/migrate';
import { ApiTokensService, type BootstrapAdmin } from './auth/api-tokens.service';
import { installHttpAuthentication } from './auth/http-edge';
import { installDashboardSignIn } from './auth/dashboard-sign-in';
import { installGraphqlLimits } from './graphql/limits/graphql-limits';
import { installCrossSiteProtection } from './http/cross-site-edge';
import { installGraphiqlPage } from './http/graphiql-page';
import { installWebUi } from './http/web-ui';
import { ProjectsService } from './projects/projects.service';
import { AgentLinkCa } from './trust/agent-link-ca.service';
import { createHubLogger } from './logging/hub-logger';

/** A running hub. */
export interface RunningHub {
  readonly app: NestFastifyApplication;
  readonly graphqlUrl: string;
  readonly grpcPort: number;
  /** PEM of the CA certificate(s) agents must trust to reach the agent link (FLOTILLA_HUB_CA). */
  readonly caBundle: string;
  /** True when the agent link serves plaintext (FLOTILLA_GRPC_INSECURE=true). */
  readonly agentLinkInsecure: boolean;
  /** What the start did about the fleet-admin token (the secret only when this start generated it). */
  readonly bootstrapAdmin: BootstrapAdmin;
  stop(): Promise<void>;
}

/**
 * PGlite executes one statement at a time; with several client connections pglite-socket was seen to
 * interleave extended-protocol messages under load ('portal "" does not exist'). One connection keeps
 * the embedded database correct; it serves a single hub process, so it is also enough.
 */
const EMBEDDED_POOL_SIZE = 1;
const DEFAULT_POOL_SIZE = 10;

/**
 * Starts the hub: the database (embedded PGlite when no DATABASE_URL), migrations under an advisory
 * lock, the agent-link CA, then GraphQL/HTTP and the gRPC agent link (TLS unless FLOTILLA_GRPC_INSECURE). `stop()` closes everything in reverse order.
 */
export async function startHub(config: HubConfig): Promise<RunningHub> {
  // Before anything logs: JSON lines or text (coloured only on a terminal), per FLOTILLA_LOG_FORMAT.
  const logger = createHubLogger(config.log, config.logLevel);
  Logger.overrideLogger(logger);
  const log = new Logger('Hub');
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedDatabase(config.dataDir);
    log.log(`using the embedded database in ${config.dataDir}`);
  }
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  try {
    const appRef: { current?: NestFastifyApplication } = {};
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl, embedded ? EMBEDDED_POOL_SIZE : DEFAULT_POOL_SIZE, appRef), new FastifyAdapter({ bodyLimit: 2 * 1024 * 1024 }), {
      logger,
      abortOnError: false,
    });
    appRef.current = app;
    // No app.enableShutdownHooks(): main.ts handles the signals and calls stop(); Nest's own signal
    // handler closed the app a second time ("Called end on pool more than once").
    await installCrossSiteProtection(app, config.crossSite);
    installHttpAuthentication(app);
    installGraphqlLimits(app);
    const signIn = await installDashboardSignIn(app, config);
    const webFiles = installWebUi(app, config.web, signIn.connectOrigins);
    installGraphiqlPage(app, config.web, webFiles);
    const ran = await migrate(app.get(DataSource), { lock: !embedded });
    if (ran.length > 0) log.log(`applied migrations: ${ran.join(', ')}`);
    await app.get(ProjectsService).ensureDefault();
    const bootstrapAdmin = await app.get(ApiTokensService).ensureBootstrapAdmin();
    // Before the agent link binds (in listen): it serves a certificate from this CA.
    const caBundle = await app.get(AgentLinkCa).bundle();
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
    let stopping: Promise<void> | undefined;
    return {
      app,
      graphqlUrl: `http://${shownHost}:${port}/graphql`,
      grpcPort: app.get(AgentLinkServer).port,
      caBundle,
      agentLinkInsecure: config.agentLinkTls.insecure,
      bootstrapAdmin,
      stop() {
        stopping ??= (async () => {
          await app.close();
          await embedded?.stop();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
