/**
 * S3: hub memory per connected idle agent, over a ramp of N.
 *
 * Project: a real hub process (hub/dist, real PostgreSQL, product timings) with an inspector open
 * (NODE_OPTIONS, lib/inspector.ts) and N simulated agents in this process (the agent's real
 * GrpcHubLink, one connection each, holding no App: idle after Hello/Welcome). Baseline: the bare
 * grpc-js server of lib/raw-idle-server.ts (the hub's server options, one Welcome answered per stream)
 * in a child process, with N reconnecting raw clients (lib/raw-reconnecting-clients.ts).
 * Each pair ramps one side from 0 to every N in turn (adding the difference), waits until all are
 * welcomed and a settle period has passed, then forces two full GCs in the server process over the
 * DevTools protocol and reads the V8 heap in use and VmRSS. Per agent = (sample at N − sample at 0 of
 * the same ramp) / N, in KiB. Then every connection is closed (the hub: until its
 * flotilla_connected_agents gauge is 0) before the other side ramps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectResponseSchema, PROTOCOL_VERSION, create, toBinary } from '@flotilla/proto';
import { createTestDatabase } from '../../harness/database.js';
import { graphqlClient } from '../../harness/graphql.js';
import { onCleanup } from '../lib/cleanup.js';
import { hubMetric, registerGrpcClusters, startInspectableHub } from '../lib/hub-fleet.js';
import { memoryAfterGc, type MemorySample } from '../lib/inspector.js';
import { alternate, summarise, type CaseResult, type Figures, type PairRun } from '../lib/pairs.js';
import { sleep, waitFor } from '../lib/proc.js';
import { startRawIdleServer } from '../lib/raw-idle-server.js';
import { startRawReconnectingFleet, type RawReconnectingFleet } from '../lib/raw-reconnecting-clients.js';
import type { HubLink } from '../../../agent/src/hub-link/hub-link.js';
import { AckingAgent, RECONNECT, startLink } from '../lib/sim-agents.js';
import { median } from '../lib/stats.js';
import type { Profile, Scenario } from './registry.js';

const RAMP: Record<Profile, number[]> = { quick: [200, 500, 1000], full: [1000, 5000, 10_000] };
/** After the last Welcome: the hub's per-connection writes (markConnected, resync) finish. */
const SETTLE_MS = 1000;
const KIB_PER_MIB = 1024;

export const S3: Scenario = {
  id: 'S3',
  title: 'hub memory per connected idle agent (ramp)',
  notes: [
    'project: real hub process, N idle GrpcHubLink agents (no App), product timings; baseline: bare grpc-js server with the hub\'s server options (GRPC_CHANNEL_OPTIONS + keepalive_permit_without_calls + min_ping_interval_without_data_ms 10 s) answering one Welcome per stream, N raw clients with the agent link\'s channel options',
    `memory: two full GCs through the DevTools protocol (the server runs with --inspect, the hub through NODE_OPTIONS), then Runtime.getHeapUsage (V8 heap used) and VmRSS, ${SETTLE_MS} ms after the last Welcome`,
    'figures in KiB per connected agent: (sample at N − sample at 0 in the same ramp) / N; each pair ramps 0 → every N, one side then the other',
  ],
  groups: () => ['grpc'],
  groupTimeoutMs: (profile) => (profile === 'full' ? 60 * 60_000 : 5 * 60_000),
  runGroup: (_group, profile) => runRamp(profile),
};

const clusterName = (i: number) => `m-${String(i).padStart(5, '0')}`;

async function runRamp(profile: Profile): Promise<CaseResult[]> {
  const ramp = RAMP[profile];
  const maxN = ramp[ramp.length - 1]!;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s3-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  const hub = await startInspectableHub({ databaseUrl: db.url, dataDir: join(dir, 'hub') });
  onCleanup(() => hub.stop());
  const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  const names = Array.from({ length: maxN }, (_, i) => clusterName(i));
  const targets = await registerGrpcClusters(api, names, () => ({ bench: 's3' }), hub);

  const welcomeFile = join(dir, 'welcome.bin');
  writeFileSync(welcomeFile, toBinary(ConnectResponseSchema, create(ConnectResponseSchema, { message: { case: 'welcome', value: { protocolVersion: PROTOCOL_VERSION, clusterName: clusterName(0), heartbeatIntervalSeconds: 10, inventoryIntervalSeconds: 60 } } })));
  const raw = await startRawIdleServer(0, welcomeFile);
  onCleanup(() => raw.stop());
  // The agent's Hello with an empty inventory, as the raw clients' first message.
  const hello = Buffer.from(`hello ${clusterName(0)} bench`);

  const perAgent = (zero: MemorySample, at: MemorySample, n: number) => ({ heap: ((at.heapMiB - zero.heapMiB) * KIB_PER_MIB) / n, rss: ((at.rssMiB - zero.rssMiB) * KIB_PER_MIB) / n });
  const zeros = { project: [] as MemorySample[], baseline: [] as MemorySample[] };
  const tops = { project: [] as MemorySample[], baseline: [] as MemorySample[] };

  const project = async (): Promise<Figures> => {
    await waitFor(async () => (await hubMetric(hub, 'flotilla_connected_agents')) === 0, 'the hub to drop every stream', 60_000, 100);
    const zero = await memoryAfterGc(hub.inspectorUrl, hub.child.pid!);
    zeros.project.push(zero);
    const links: HubLink[] = [];
    const figures: Figures = {};
    try {
      let at = zero;
      for (const n of ramp) {
        for (let i = links.length; i < n; i++) links.push(startLink(targets[i]!, new AckingAgent()));
        await waitFor(() => links.every((l) => l.isConnected()), `${n} agents welcomed`, 120_000, 50);
        await sleep(SETTLE_MS);
        at = await memoryAfterGc(hub.inspectorUrl, hub.child.pid!);
        const per = perAgent(zero, at, n);
        figures[`heap ${n}`] = per.heap;
        figures[`RSS ${n}`] = per.rss;
      }
      tops.project.push(at);
    } finally {
      await Promise.all(links.map((l) => l.stop()));
    }
    return figures;
  };

  const baseline = async (): Promise<Figures> => {
    const zero = await memoryAfterGc(raw.inspectorUrl, raw.pid);
    zeros.baseline.push(zero);
    const fleets: RawReconnectingFleet[] = [];
    const figures: Figures = {};
    try {
      let at = zero;
      let held = 0;
      for (const n of ramp) {
        const fleet = startRawReconnectingFleet(raw.address, n - held, hello, RECONNECT);
        fleets.push(fleet);
        held = n;
        await waitFor(() => fleets.reduce((sum, f) => sum + f.connected(), 0) === n, `${n} raw clients welcomed`, 120_000, 50);
        await sleep(SETTLE_MS);
        at = await memoryAfterGc(raw.inspectorUrl, raw.pid);
        const per = perAgent(zero, at, n);
        figures[`heap ${n}`] = per.heap;
        figures[`RSS ${n}`] = per.rss;
      }
      tops.baseline.push(at);
    } finally {
      await Promise.all(fleets.map((f) => f.close()));
    }
    // Let the server see every stream end before the next ramp's zero.
    await sleep(SETTLE_MS);
    return figures;
  };

  const run = await alternate({ warmup: 1, pairs: 5, budgetMs: profile === 'full' ? 40 * 60_000 : 150_000 }, project, baseline);
  const mid = (samples: MemorySample[], key: keyof MemorySample) => median(samples.slice(1).map((s) => s[key]));
  return ramp.map((n): CaseResult => {
    const pick = (side: Figures[]) => side.map((f) => ({ heap: f[`heap ${n}`]!, RSS: f[`RSS ${n}`]! }));
    const sized: PairRun = { project: pick(run.project), baseline: pick(run.baseline), cut: run.cut };
    return {
      label: `grpc N=${n}`,
      n,
      pairs: sized.project.length,
      cut: run.cut,
      rows: summarise(sized, ['heap', 'RSS']),
      facts: n !== maxN ? {} : {
        'hub heap MiB at 0 (median)': mid(zeros.project, 'heapMiB'),
        'hub RSS MiB at 0': mid(zeros.project, 'rssMiB'),
        [`hub heap MiB at ${n}`]: mid(tops.project, 'heapMiB'),
        [`hub RSS MiB at ${n}`]: mid(tops.project, 'rssMiB'),
        'raw heap MiB at 0': mid(zeros.baseline, 'heapMiB'),
        [`raw heap MiB at ${n}`]: mid(tops.baseline, 'heapMiB'),
        [`raw RSS MiB at ${n}`]: mid(tops.baseline, 'rssMiB'),
        'hub heap MiB at 0, first → last pair': `${zeros.project[0]?.heapMiB.toFixed(1)} → ${zeros.project.at(-1)?.heapMiB.toFixed(1)}`,
      },
      raw: sized,
    };
  });
}
