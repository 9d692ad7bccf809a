import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { AppSetsService } from '../app-sets/app-sets.service';
import { ClustersService } from '../clusters/clusters.service';
import type { HubConfig } from '../config/hub-config';
import type { RunningHub } from '../hub';
import { RolloutsService } from '../rollouts/rollouts.service';
import { SAMPLE_APP_SET } from './sample-app-set';
import { hubPrincipal } from '../core/auth/principal';
import { resolveLogFormat } from '../logging/hub-logger';

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
  // Inside the data folder: a fresh data folder (a new hub, a second demo beside the first) must not
  // inherit agent credentials that only the old hub's database knew.
  const agentsDir = join(resolve(config.dataDir), 'demo-agents');
  const children: ChildProcess[] = [];
  const json = resolveLogFormat(config.log, process.stdout.isTTY === true) === 'json';

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
      // On a terminal the agents write there; otherwise their lines go through relayAgentOutput.
      stdio: ['ignore', json ? 'pipe' : 'inherit', json ? 'pipe' : 'inherit', 'ipc'],
    });
    if (json) relayAgentOutput(child, demo.name);
    children.push(child);
  }
  log.log(`started ${children.length} simulated agents (state in ${agentsDir})`);

  const stop = () => stopAgents(children);
  try {
    await appSets.restageAll();
    const applied = await appSets.apply(SAMPLE_APP_SET, hubPrincipal('demo'), 'demo AppSet');
    if (applied.issues.length > 0) throw new Error(`The demo AppSet was refused: ${applied.issues.map((i) => i.message).join('; ')}`);
    const appSet = await appSets.getVisible(hubPrincipal('demo'), 'guestbook', 'default');
    const previous = await rollouts.listForAppSet(appSet.id, 1);
    // Whatever is staged and not released (a new revision, or a demo cluster registered again) is rolled
    // out, unless a rollout of this revision is still under way.
    const underWay = previous[0] !== undefined && ['PROGRESSING', 'PAUSED'].includes(previous[0].phase) && previous[0].appSetRevision === appSet.currentRevision;
    // Let the demo's agents connect first (bounded): the default strategy's canary takes connected
    // clusters only, and a canary of every region shows the waves better than one region at a time.
    await waitForConnected(clusters, DEMO_CLUSTERS.map((c) => c.name), AGENTS_CONNECT_WAIT_MS);
    const pending = await rollouts.preview(appSet);
    if (!underWay && pending.added + pending.changed + pending.removed > 0) {
      const rollout = await rollouts.start(appSet, 'demo', new Date());
      log.log(`rollout ${rollout.id} started`);
    }
  } catch (error) {
    // The hub is about to exit: its agents must not outlive it.
    await stop();
    throw error;
  }
  // The variables every README example uses.
  log.log(
    `try:\n  export FLOTILLA_URL=${hub.graphqlUrl} FLOTILLA_TOKEN="$(cat ${hub.bootstrapAdmin.file})"\n  curl -s "$FLOTILLA_URL" -H "Authorization: Bearer $FLOTILLA_TOKEN" -H 'content-type: application/json' \\\n    -d '{"query":"{ clusters { name connected apps { name revision health syncStatus } } }"}'`,
  );

  return { stop };
}

/** How long the demo waits for its agents to connect before it starts its rollout anyway. */
const AGENTS_CONNECT_WAIT_MS = 20_000;

/** Resolves once every named cluster is connected, or after `timeoutMs` (polls twice a second). */
async function waitForConnected(clusters: ClustersService, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline && attempt < Math.ceil(timeoutMs / 500); attempt++) {
    const found = await Promise.all(names.map((name) => clusters.find(name)));
    const now = new Date();
    if (found.every((cluster) => cluster !== null && clusters.isConnected(cluster, now))) return;
    await new Promise((done) => setTimeout(done, 500));
  }
}

/**
 * Passes an agent's JSON log lines through to the hub's standard output as they are, and turns any
 * other line (a Node warning on stderr) into a JSON line of the hub's log, so that a JSON log stays
 * one JSON object per line.
 */
function relayAgentOutput(child: ChildProcess, cluster: string): void {
  const log = new Logger(`Demo agent ${cluster}`);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim() === '') return;
      if (isJsonObject(line)) process.stdout.write(`${line}\n`);
      else log.warn(line.slice(0, 2000));
    });
  }
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 3 s, to every agent still running. */
async function stopAgents(children: readonly ChildProcess[]): Promise<void> {
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
}
