import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { HubConfigError, loadHubConfig } from './config/hub-config';
import { startDemo } from './demo/demo-fleet';
import { startHub } from './hub';
import { adminTokenBanner } from './auth/admin-token-banner';
import { printNatsConfig } from './nats-trust/print-nats-config';
import { resolveLogFormat } from './logging/hub-logger';

const log = new Logger('Hub');

async function main(): Promise<void> {
  let config;
  try {
    config = loadHubConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof HubConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const print = process.argv.includes('--print-nats-config') ? 'server-config' : process.argv.includes('--print-nats-enrollment-jwt') ? 'enrollment-jwt' : undefined;
  if (print) {
    // stdout carries the printed text only.
    Logger.overrideLogger(['error']);
    process.stdout.write(await printNatsConfig(config, print));
    return;
  }
  const hub = await startHub(config);
  log.log(`GraphQL ready at ${hub.graphqlUrl} (GraphiQL at ${hub.graphqlUrl.replace(/graphql$/, 'graphiql')})`);
  const banner = adminTokenBanner(hub, config);
  // The token is shown on a terminal only: a JSON log goes to files and collectors, and keeps no secret.
  if (banner && resolveLogFormat(config.log, process.stdout.isTTY === true) === 'text') console.log(banner);
  else if (banner) log.log(`The fleet-admin API token is in ${hub.bootstrapAdmin.file} (mode 0600); it is shown on a terminal only, never in a JSON log.`);
  const demo = config.demo ? await startDemo(hub, config) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await demo?.stop();
    await hub.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
