import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppSetsService } from '../app-sets/app-sets.service';
import { ClustersService } from '../clusters/clusters.service';
import type { HubConfig } from '../config/hub-config';
import type { RunningHub } from '../hub';
import { RolloutsService } from '../rollouts/rollouts.service';
import { SAMPLE_APP_SET } from './sample-app-set';
import { hubPrincipal } from '../core/auth/principal';

const DEMO_CLUSTERS = [
  { name: 'demo-us-east', labels: { region: 'us-east', env: 'demo' } },
  { name: 'demo-eu-west', labels: { region: 'eu-west', env: 'demo' } },
  { name: 'demo-ap-south', labels: { region: 'ap-south', env: 'demo' } },
];

/** File in which an agent of an earlier version keeps its bearer credential (see agent/src/cache). */
const CREDENTIAL_FILE = 'credential';
/** File in which an agent keeps its client key and certificate (see agent/src/cache). */
const CLIENT_IDENTITY_FILE = 'client-identity.json';

/** True when the agent in `stateDir` holds something to authenticate with (a certificate, or a bearer credential). */
function hasAgentIdentity(stateDir: string): boolean {
  if (existsSync(join(stateDir, CREDENTIAL_FILE))) return true;
  try {
    return typeof (JSON.parse(readFileSync(join(stateDir, CLIENT_IDENTITY_FILE), 'utf8')) as { certificatePem?: unknown }).certificatePem === 'string';
  } catch {
    return false;
  }
}

export interface Demo {
  stop(): Promise<void>;
}

/**
 * The demo fleet: registers three clusters in three regions, starts one simulated agent process per
 * cluster (each with its own gRPC connection), applies a sample AppSet and rolls it out. Idempotent
 * across restarts: existing clusters keep their agents' stored credentials.
 */
export async function startDemo(hub: RunningHub, config: HubConfig): Promise<Demo> {
  const log = new Logger('Demo');
  const agentMain = resolve(__dirname, '../../../agent/dist/main.js');
  if (!existsSync(agentMain)) throw new Error(`The demo needs the built agent at ${agentMain}: run \`npm run build\` first.`);
  const clusters = hub.app.get(ClustersService);
  const appSets = hub.app.get(AppSetsService);
  const rollouts = hub.app.get(RolloutsService);
  const agentsDir = join(dirname(resolve(config.dataDir)), 'demo-agents');
  const children: ChildProcess[] = [];

  for (const demo of DEMO_CLUSTERS) {
    const stateDir = join(agentsDir, demo.name);
    mkdirSync(stateDir, { recursive: true });
    const existing = await clusters.find(demo.name);
    let bootstrapToken = '';
    if (!existing) bootstrapToken = (await clusters.register(demo, new Date())).bootstrapToken;
    else if (!hasAgentIdentity(stateDir)) bootstrapToken = (await clusters.issueBootstrapToken(demo.name, new Date())).bootstrapToken;
    const child = fork(agentMain, [], {
      env: {
        ...process.env,
        FLOTILLA_HUB_ADDRESS: `127.0.0.1:${hub.grpcPort}`,
        // The agents verify the hub like any other: against its agent-link CA (127.0.0.1 is in its certificate).
        ...(hub.agentLinkInsecure ? { FLOTILLA_HUB_INSECURE: 'true' } : { FLOTILLA_HUB_CA: hub.caBundle }),
        FLOTILLA_CLUSTER_NAME: demo.name,
        FLOTILLA_BOOTSTRAP_TOKEN: bootstrapToken,
        FLOTILLA_STATE_DIR: stateDir,
        FLOTILLA_DRIVER: 'sim',
        FLOTILLA_SIM_HEALTHY_AFTER_MS: '3000',
        FLOTILLA_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
  }
  log.log(`started ${children.length} simulated agents (state in ${agentsDir})`);

  await appSets.restageAll();
  const applied = await appSets.apply(SAMPLE_APP_SET, hubPrincipal('demo'), 'demo AppSet');
  if (applied.issues.length > 0) throw new Error(`The demo AppSet was refused: ${applied.issues.map((i) => i.message).join('; ')}`);
  const appSet = await appSets.getVisible(hubPrincipal('demo'), 'guestbook', 'default');
  const previous = await rollouts.listForAppSet(appSet.id, 1);
  if (applied.changed || previous.length === 0 || previous[0]!.appSetRevision !== appSet.currentRevision) {
    const rollout = await rollouts.start(appSet, 'demo', new Date());
    log.log(`rollout ${rollout.id} started`);
  }
  log.log(
    `try:\n  curl -s ${hub.graphqlUrl} -H "Authorization: Bearer $(cat ${hub.bootstrapAdmin.file})" -H 'content-type: application/json' \\\n    -d '{"query":"{ clusters { name connected apps { name revision health syncStatus } } }"}'`,
  );

  return {
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}
