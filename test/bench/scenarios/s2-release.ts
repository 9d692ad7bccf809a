/**
 * S2: one mutation releases a new revision to N connected agents; time until every agent acked it.
 *
 * Project: a real hub process (hub/dist, real PostgreSQL, product defaults for heartbeat, inventory and
 * outbox scan) and N simulated agents in this process: the agent's real GrpcHubLink or NatsHubLink, one
 * connection each (lib/sim-agents.ts). Each round applies a new AppSet revision (staging sends nothing;
 * not timed), then times `startRollout` with a one-wave strategy (100 % concurrency, no soak): the one
 * mutation that releases to every cluster. Latency per agent = its ack (timestamped by the agent as it
 * sends it) − the moment the mutation was sent. Hub CPU = /proc/<hub pid>/stat over that window.
 * NATS: a generated nats-server config with the hub user and one user per cluster, with exactly the
 * permissions of docs/nats/flotilla.conf, plus a `bench-raw` user (all subjects) for the baseline.
 * Baseline: raw-hub.ts in a child process writing the same bytes (the hub's ConnectResponse with the
 * DesiredApp an agent received) to N clients that ack, over a bare grpc-js bidi stream or core NATS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConnectRequestSchema, ConnectResponseSchema, create, toBinary } from '@flotilla/proto';
import { createTestDatabase } from '../../harness/database.js';
import { graphqlClient } from '../../harness/graphql.js';
import { NatsServerProcess } from '../../harness/nats.js';
import { startHub, type HubProcess } from '../../harness/processes.js';
import { onCleanup } from '../lib/cleanup.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { processCpuMs, sleep, waitFor } from '../lib/proc.js';
import { startRawGrpcFleet, startRawNatsFleet } from '../lib/raw-clients.js';
import { rawTlsDir } from '../lib/raw-tls.js';
import { AckingAgent, startLink, type AgentTarget, type Transport } from '../lib/sim-agents.js';
import { spread } from '../lib/stats.js';
import type { Profile, Scenario } from './registry.js';

const SIZES: Record<Profile, number[]> = { quick: [200, 1000], full: [1000, 10_000] };
const ONE_WAVE = { waves: [{ name: 'all', maxConcurrency: '100%', soak: '0s' }] };
const RAW_USER = { user: 'bench-raw', password: 'bench-raw-pw' };
const HUB_USER = { user: 'flotilla-hub', password: 'bench-hub-pw' };
const clusterName = (i: number) => `b-${String(i).padStart(5, '0')}`;

export const S2: Scenario = {
  id: 'S2',
  title: 'one mutation releases a new revision to N connected agents (time to every ack)',
  notes: [
    'project: startRollout (one wave, 100 %, soak 0s) on a real hub process; agents = the agent\'s real GrpcHubLink / NatsHubLink, one connection each, all in the bench process; latency = agent ack time − mutation sent',
    'NATS: generated server config with one user per cluster and the permissions of docs/nats/flotilla.conf (+ a bench-raw user for the baseline)',
    'baseline: bare grpc-js bidi streams / core NATS publish of the same bytes from a child process, clients ack; hub CPU = user+system of the hub (or raw hub) process over the window',
    'figures in ms; hub CPU in CPU-ms',
  ],
  groups: () => ['grpc', 'nats'],
  groupTimeoutMs: (profile) => (profile === 'full' ? 60 * 60_000 : 5 * 60_000),
  runGroup: (group, profile) => runTransport(group as Transport, profile),
};

async function runTransport(transport: Transport, profile: Profile): Promise<CaseResult[]> {
  const sizes = SIZES[profile];
  const maxN = Math.max(...sizes);
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s2-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  let nats: NatsServerProcess | undefined;
  if (transport === 'nats') {
    const config = join(dir, 'nats.conf');
    writeFileSync(config, natsConfig(maxN));
    nats = await NatsServerProcess.start({ config });
    onCleanup(() => nats!.dispose());
  }
  const hub = await startHub({
    databaseUrl: db.url,
    dataDir: join(dir, 'hub'),
    env: {
      // Product defaults (the harness shortens them for tests).
      FLOTILLA_HEARTBEAT_SECONDS: '10',
      FLOTILLA_INVENTORY_SECONDS: '60',
      FLOTILLA_OUTBOX_SCAN_MS: '1000',
      ...(nats ? { FLOTILLA_NATS_URL: nats.url, FLOTILLA_NATS_USER: HUB_USER.user, FLOTILLA_NATS_PASSWORD: HUB_USER.password } : {}),
    },
  });
  onCleanup(() => hub.stop());
  const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  const targets = await registerClusters(api, maxN, sizes, transport, transport === 'grpc' ? hub.grpcAddress : nats!.url, hub.caBundle);
  const results: CaseResult[] = [];
  for (const n of sizes) results.push(await runSize(transport, n, profile, hub, api, targets.slice(0, n), dir, nats));
  return results;
}

async function runSize(transport: Transport, n: number, profile: Profile, hub: HubProcess, api: ReturnType<typeof graphqlClient>, targets: AgentTarget[], dir: string, nats: NatsServerProcess | undefined): Promise<CaseResult> {
  const agents = targets.map(() => new AckingAgent());
  const links = targets.map((t, i) => startLink(t, agents[i]!));
  const stopLinks = async () => void (await Promise.all(links.map((l) => l.stop())));
  onCleanup(stopLinks);
  await waitFor(() => links.every((l) => l.isConnected()), `${n} agents connected over ${transport}`, 120_000, 50);
  const appSet = `bench-${n}`;
  const pooled: number[] = [];
  let raw: RawHub | undefined;

  const project = async (round: number): Promise<Figures> => {
    const issues = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: appSetYaml(appSet, n, round) });
    if (issues.applyAppSet.issues.length > 0) throw new Error(`applyAppSet: ${JSON.stringify(issues.applyAppSet.issues)}`);
    const staged = await api.must<{ appSet: { apps: { stagedRevision: string }[] } }>(`query($n: String!) { appSet(name: $n) { apps(first: 1) { stagedRevision } } }`, { n: appSet });
    const revision = staged.appSet.apps[0]!.stagedRevision;
    await sleep(200); // let the staging's aftermath settle before the window opens
    const cpuAtStart = processCpuMs(hub.child.pid!);
    const sent = performance.now();
    await api.must(`mutation($a: String!, $s: JSONObject) { startRollout(appSet: $a, strategy: $s) { id } }`, { a: appSet, s: ONE_WAVE });
    await waitFor(() => agents.every((a) => a.ackedAt.has(revision)), `every ack of ${revision.slice(0, 12)}`, 180_000);
    const cpu = processCpuMs(hub.child.pid!) - cpuAtStart;
    const latencies = agents.map((a) => a.ackedAt.get(revision)! - sent);
    if (round > 0) pooled.push(...latencies);
    const s = spread(latencies);
    return { 'ack p50': s.p50, 'ack p99': s.p99, 'ack max': s.max, 'hub CPU': cpu };
  };

  const baseline = async (): Promise<Figures> => {
    raw ??= await startRawHub(transport, agents[0]!, dir, nats);
    const fleet = transport === 'grpc' ? await startRawGrpcFleet(raw.address, n, raw.ack) : await startRawNatsFleet(nats!.url, RAW_USER.user, RAW_USER.password, n, raw.ack);
    try {
      await sleep(200);
      const cpuAtStart = processCpuMs(raw.pid);
      const sent = performance.now();
      const acked = raw.nextAcked();
      raw.send(`release ${n}`);
      await waitFor(() => fleet.ackedAt.every((t) => t !== undefined), `every raw ack`, 180_000);
      const cpu = processCpuMs(raw.pid) - cpuAtStart;
      await acked;
      const s = spread(fleet.ackedAt.map((t) => t! - sent));
      return { 'ack p50': s.p50, 'ack p99': s.p99, 'ack max': s.max, 'hub CPU': cpu };
    } finally {
      await fleet.close();
    }
  };

  const run = await alternate({ warmup: 1, pairs: 5, budgetMs: profile === 'full' ? 40 * 60_000 : 100_000 }, project, baseline);
  await raw?.stop();
  await stopLinks();
  const all = spread(pooled);
  return {
    label: `${transport} N=${n}`,
    n,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['ack p50', 'ack p99', 'ack max', 'hub CPU']),
    facts: { 'pooled project ack p50': all.p50, 'pooled p99': all.p99, 'pooled max': all.max, 'payload bytes': raw?.payloadBytes ?? 0 },
    raw: run,
  };
}

export interface RawHub {
  readonly pid: number;
  readonly address: string;
  readonly ack: Uint8Array;
  readonly payloadBytes: number;
  send(line: string): void;
  nextAcked(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts raw-hub.ts in a child process with the bytes the hub sent (a ConnectResponse with that DesiredApp). */
export async function startRawHub(transport: Transport, agent: AckingAgent, dir: string, nats: NatsServerProcess | undefined): Promise<RawHub> {
  const desired = agent.firstDesired;
  if (!desired) throw new Error('no DesiredApp seen yet: the baseline needs its bytes');
  const payload = toBinary(ConnectResponseSchema, create(ConnectResponseSchema, { message: { case: 'desiredApp', value: { ...desired, syncPolicy: undefined } } }));
  const ack = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: 'ack', value: { appName: desired.appName, revision: desired.revision, generation: desired.generation, accepted: true } } }));
  const payloadFile = join(dir, 'payload.bin');
  writeFileSync(payloadFile, payload);
  const entry = fileURLToPath(new URL('../bench.mjs', import.meta.url));
  const extra = transport === 'nats' ? [nats!.url, RAW_USER.user, RAW_USER.password] : [rawTlsDir()];
  const child = spawn(process.execPath, [entry, '--raw-hub', transport, payloadFile, ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(() => void child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! });
  const waiters: (() => void)[] = [];
  let ready: (address: string) => void;
  const readyLine = new Promise<string>((done) => (ready = done));
  lines.on('line', (line) => {
    if (line.startsWith('ready')) ready(line.split(' ')[1] ?? '');
    else if (line === 'acked') waiters.shift()?.();
  });
  const address = await readyLine;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    pid: child.pid!,
    address,
    ack,
    payloadBytes: payload.length,
    send: (line) => void child.stdin!.write(`${line}\n`),
    nextAcked: () => new Promise<void>((done) => waiters.push(done)),
    stop: async () => {
      child.stdin!.end('stop\n');
      await exited;
    },
  };
}

/** One small ConfigMap per cluster, the same on every cluster; `round` changes its content. */
function appSetYaml(name: string, n: number, round: number): string {
  return `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: { selector: { matchLabels: { b${n}: "yes" } } }
  template:
    namespace: bench
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: { round: "${round}", padding: "${'x'.repeat(512)}" }
`;
}

/** Registers `count` clusters (100 per GraphQL request) labelled b<size>=yes for each size they fall in. */
async function registerClusters(api: ReturnType<typeof graphqlClient>, count: number, sizes: number[], transport: Transport, address: string, caPem: string): Promise<AgentTarget[]> {
  const targets: AgentTarget[] = [];
  for (let start = 0; start < count; start += 100) {
    const ids = Array.from({ length: Math.min(100, count - start) }, (_, k) => start + k);
    const fields = ids.map((i) => {
      const labels = sizes.filter((s) => i < s).map((s) => `b${s}: "yes"`).join(', ');
      return `c${i}: registerCluster(input: { name: "${clusterName(i)}", labels: { ${labels} } }) { bootstrapToken }`;
    });
    const data = await api.must<Record<string, { bootstrapToken: string }>>(`mutation { ${fields.join('\n')} }`);
    for (const i of ids) {
      targets.push({ transport, address, caPem, cluster: clusterName(i), bootstrapToken: data[`c${i}`]!.bootstrapToken, natsPassword: `pw-${clusterName(i)}` });
    }
  }
  return targets;
}

/** docs/nats/flotilla.conf with N cluster users generated from its cluster block, plus the baseline's user. */
function natsConfig(n: number): string {
  const users = Array.from({ length: n }, (_, i) => {
    const c = clusterName(i);
    return `    { user: ${c}, password: pw-${c}, permissions: { publish: { allow: ["reports.${c}", "$JS.API.CONSUMER.CREATE.KV_flotilla-desired.*.$KV.flotilla-desired.${c}.>", "$JS.FC.KV_flotilla-desired.>"] }, subscribe: { allow: ["_INBOX_${c}.>"] } } }`;
  });
  return `jetstream: enabled
max_payload: 1MB
max_connections: ${2 * n + 100}
authorization {
  users = [
    { user: ${HUB_USER.user}, password: ${HUB_USER.password}, permissions: { publish: { allow: ["$JS.API.>", "$KV.flotilla-desired.>", "$JS.ACK.>", "$JS.FC.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
    { user: ${RAW_USER.user}, password: ${RAW_USER.password} }
${users.join('\n')}
  ]
}
`;
}
