/**
 * S6: a rollout in 3 regional waves (20 / 30 / 50 % of N), 50 % in-wave concurrency, with injected
 * per-cluster health delays and a few failures within the failure budget.
 *
 * Project: a real hub process (product timings) and N simulated agents in this process (the agent's
 * real GrpcHubLink). Each agent acks a DesiredApp like the real agent (its decision function) and,
 * `delayMs` after accepting it, reports the App HEALTHY (or DEGRADED for the chosen failing clusters)
 * for that revision and generation. Delays are drawn per round from a seeded log-normal distribution
 * (the same numbers in every run). Each round stages a new revision (not timed), then times
 * `startRollout` (explicit waves selecting region r1, r2, r3; maxConcurrency 50 %; maxFailures 2;
 * soak 0s) → the rollout's SUCCEEDED event (hub clock; same host). Advances = RELEASED events.
 * Baselines, per round: the analytical lower bound of BENCH.md, Σ over waves of (largest injected
 * delay of the wave + the S2 floor for the wave's size), the floor measured in the same round with the
 * raw fan-out of raw-hub.ts (same bytes, a fleet of the wave's size, time to the last ack); and a
 * tighter one, Σ over waves of (the makespan of the wave's own release policy with zero overhead:
 * clusters in name order, a slot freed the instant its cluster reports + the same floor).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Health, SyncStatus } from '@flotilla/proto';
import type { AckContent, IncomingDesiredApp } from '../../../agent/src/core/desired-state.js';
import type { ReportContent } from '../../../agent/src/core/health/index.js';
import { createTestDatabase } from '../../harness/database.js';
import { graphqlClient } from '../../harness/graphql.js';
import { startHub } from '../../harness/processes.js';
import { onCleanup } from '../lib/cleanup.js';
import { PRODUCT_TIMINGS, configMapAppSet, registerGrpcClusters, stageAppSet, startRollout, type Api } from '../lib/hub-fleet.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { sleep, waitFor } from '../lib/proc.js';
import { startRawGrpcFleet } from '../lib/raw-clients.js';
import { AckingAgent, startLink } from '../lib/sim-agents.js';
import { startRawHub, type RawHub } from './s2-release.js';
import type { Profile, Scenario } from './registry.js';

const SIZES: Record<Profile, number> = { quick: 200, full: 1000 };
const WAVES = [
  { region: 'r1', share: 0.2 },
  { region: 'r2', share: 0.3 },
  { region: 'r3', share: 0.5 },
] as const;
const CONCURRENCY = 0.5;
const MAX_FAILURES = 2;
const FAILURES_PER_WAVE = 1;
/** Health delay: log-normal around the median, clamped. */
const DELAY = { medianMs: 600, sigma: 0.6, minMs: 100, maxMs: 3000 };
const ROLLOUT_TIMEOUT_MS = 120_000;
const APP_SET = 'waves';

export const S6: Scenario = {
  id: 'S6',
  title: '3 regional waves (20/30/50 %), 50 % in-wave concurrency, injected health delays and failures',
  notes: [
    `project: startRollout → SUCCEEDED on a real hub process; waves r1/r2/r3 by label, maxConcurrency ${CONCURRENCY * 100} %, maxFailures ${MAX_FAILURES}, soak 0s; ${FAILURES_PER_WAVE} cluster per wave reports DEGRADED; agents = GrpcHubLink in the bench process`,
    `health delay per cluster and round: log-normal, median ${DELAY.medianMs} ms, σ ${DELAY.sigma}, clamped to ${DELAY.minMs}–${DELAY.maxMs} ms, seeded by the round (same draws every run); counted from the agent's accept of the DesiredApp`,
    'baseline "max-delay bound" (BENCH.md): Σ waves (largest delay + S2 floor of the wave size); "schedule bound": Σ waves (zero-overhead makespan of the same in-name-order, 50 % slot policy + the same floor); floor = raw grpc-js fan-out of the same bytes to a fleet of the wave\'s size, last ack, measured each round',
    'figures in ms except "advances" (RELEASED events of the rollout)',
  ],
  groups: () => ['grpc'],
  groupTimeoutMs: (profile) => (profile === 'full' ? 60 * 60_000 : 5 * 60_000),
  runGroup: async (_group, profile) => [await runWaves(profile)],
};

/** Reports HEALTHY (or DEGRADED when `fails`) for each accepted revision, `delayMs` after accepting it. */
class HealthAgent extends AckingAgent {
  delayMs = 0;
  fails = false;
  readonly #listeners = new Set<(report: ReportContent) => void>();
  readonly #reports = new Map<string, ReportContent>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #scheduled = -1n;

  override currentReports(): readonly ReportContent[] {
    return [...this.#reports.values()];
  }

  override onReport(listener: (report: ReportContent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  override async handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void> {
    await super.handleDesiredApp(message, sendAck);
    const entry = this.held.get(message.appName);
    if (entry?.kind !== 'app' || entry.generation !== message.generation || entry.generation <= this.#scheduled) return;
    this.#scheduled = entry.generation;
    const health = this.fails ? Health.DEGRADED : Health.HEALTHY;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const report: ReportContent = { appName: entry.appName, revision: entry.revision, generation: entry.generation, health, syncStatus: SyncStatus.SYNCED, message: '', resources: [], resourcesTruncated: false, observedAtUnixMs: BigInt(Date.now()) };
      this.#reports.set(entry.appName, report);
      for (const listener of this.#listeners) listener(report);
    }, this.delayMs);
    this.#timers.add(timer);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** mulberry32: a small seeded PRNG, so that every run injects the same delays. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zero-overhead makespan of releasing `delays` in order with `slots` in flight at most. */
function greedyMakespan(delays: readonly number[], slots: number): number {
  const finishing: number[] = [];
  let now = 0;
  let end = 0;
  for (const delay of delays) {
    if (finishing.length >= slots) {
      finishing.sort((x, y) => x - y);
      now = finishing.shift()!;
    }
    finishing.push(now + delay);
    end = Math.max(end, now + delay);
  }
  return end;
}

const clusterName = (i: number) => `w-${String(i).padStart(5, '0')}`;

interface RoundPlan {
  /** Per wave: the indices of its clusters (name order), their delays, and those that report DEGRADED. */
  readonly waves: { readonly members: number[]; readonly delays: number[]; readonly failing: number[] }[];
}

function planRound(round: number, n: number): RoundPlan {
  const random = seeded(0x5eed + round);
  let start = 0;
  return {
    waves: WAVES.map((w, k) => {
      const size = k === WAVES.length - 1 ? n - start : Math.round(w.share * n);
      const members = Array.from({ length: size }, (_, j) => start + j);
      start += size;
      const delays = members.map(() => {
        const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return Math.round(Math.min(DELAY.maxMs, Math.max(DELAY.minMs, DELAY.medianMs * Math.exp(DELAY.sigma * normal))));
      });
      const failing = new Set<number>();
      while (failing.size < Math.min(FAILURES_PER_WAVE, size)) failing.add(members[Math.floor(random() * size)]!);
      return { members, delays, failing: [...failing] };
    }),
  };
}

async function runWaves(profile: Profile): Promise<CaseResult> {
  const n = SIZES[profile];
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s6-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  const hub = await startHub({ databaseUrl: db.url, dataDir: join(dir, 'hub'), env: PRODUCT_TIMINGS });
  onCleanup(() => hub.stop());
  const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  const layout = planRound(0, n);
  const regionOf = new Map(layout.waves.flatMap((w, k) => w.members.map((i) => [i, WAVES[k]!.region] as const)));
  const names = Array.from({ length: n }, (_, i) => clusterName(i));
  const targets = await registerGrpcClusters(api, names, (_name, i) => ({ bench: 's6', region: regionOf.get(i)! }), hub);
  const agents = targets.map(() => new HealthAgent());
  const links = targets.map((t, i) => startLink(t, agents[i]!));
  onCleanup(async () => {
    for (const agent of agents) agent.stop();
    await Promise.all(links.map((l) => l.stop()));
  });
  await waitFor(() => links.every((l) => l.isConnected()), `${n} agents connected`, 120_000, 50);
  const strategy = {
    waves: WAVES.map((w) => ({ name: w.region, selector: { matchLabels: { region: w.region } }, maxConcurrency: `${CONCURRENCY * 100}%`, maxFailures: MAX_FAILURES, soak: '0s' })),
  };

  let raw: RawHub | undefined;
  const plans = new Map<number, RoundPlan>();
  const planOf = (round: number) => plans.get(round) ?? plans.set(round, planRound(round, n)).get(round)!;
  let failuresSeen = 0;

  const project = async (round: number): Promise<Figures> => {
    const plan = planOf(round);
    for (const wave of plan.waves) {
      wave.members.forEach((i, j) => {
        agents[i]!.delayMs = wave.delays[j]!;
        agents[i]!.fails = wave.failing.includes(i);
      });
    }
    await stageAppSet(api, APP_SET, configMapAppSet(APP_SET, { bench: 's6' }, round));
    await sleep(200); // let the staging's aftermath settle before the window opens
    const sentWall = Date.now();
    const id = await startRollout(api, APP_SET, strategy);
    const rollout = await waitForRollout(api, id);
    const events = rollout.events;
    const succeeded = events.find((e) => e.kind === 'SUCCEEDED');
    if (rollout.phase !== 'SUCCEEDED' || !succeeded) throw new Error(`rollout ${id} ended ${rollout.phase}: ${rollout.reason}`);
    const failed = rollout.waves.reduce((sum, w) => sum + w.counts.failed, 0);
    const injected = agents.filter((a) => a.fails).length;
    if (failed !== injected) throw new Error(`rollout ${id}: ${failed} clusters failed, ${injected} injected`);
    failuresSeen += failed;
    const total = Date.parse(succeeded.at) - sentWall;
    return { 'total vs max-delay bound': total, 'total vs schedule bound': total, advances: events.filter((e) => e.kind === 'RELEASED').length, 'wave starts': events.filter((e) => e.kind === 'WAVE_STARTED').length };
  };

  const baseline = async (round: number): Promise<Figures> => {
    const plan = planOf(round);
    raw ??= await startRawHub('grpc', agents[0]!, dir, undefined);
    let maxDelayBound = 0;
    let scheduleBound = 0;
    for (const wave of plan.waves) {
      const floor = await rawFanOut(raw, wave.members.length);
      maxDelayBound += Math.max(...wave.delays) + floor;
      scheduleBound += greedyMakespan(wave.delays, Math.ceil(CONCURRENCY * wave.members.length)) + floor;
    }
    return { 'total vs max-delay bound': maxDelayBound, 'total vs schedule bound': scheduleBound };
  };

  const run = await alternate({ warmup: 1, pairs: 5, budgetMs: profile === 'full' ? 40 * 60_000 : 110_000 }, project, baseline);
  await raw?.stop();
  const mean = (key: string) => run.project.reduce((s, f) => s + f[key]!, 0) / Math.max(1, run.project.length);
  return {
    label: `grpc N=${n}`,
    n,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['total vs max-delay bound', 'total vs schedule bound'], ['advances']),
    facts: {
      'waves (clusters)': planOf(0).waves.map((w) => w.members.length).join('/'),
      'wave starts per rollout (mean)': mean('wave starts'),
      'failed clusters per rollout (injected DEGRADED, as counted by the hub)': failuresSeen / (run.project.length + 1),
      'payload bytes': raw?.payloadBytes ?? 0,
    },
    raw: run,
  };
}

/** The S2 floor for `size` clients: raw fan-out of the same bytes, time to the last ack (ms). */
async function rawFanOut(raw: RawHub, size: number): Promise<number> {
  const fleet = await startRawGrpcFleet(raw.address, size, raw.ack);
  try {
    await sleep(200);
    const sent = performance.now();
    raw.send(`release ${size}`);
    await waitFor(() => fleet.ackedAt.every((t) => t !== undefined), 'every raw ack', 60_000);
    return Math.max(...fleet.ackedAt.map((t) => t! - sent));
  } finally {
    await fleet.close();
    await sleep(200); // the raw hub drops the closed streams before the next fan-out
  }
}

interface RolloutView {
  readonly phase: string;
  readonly reason: string;
  readonly events: { kind: string; at: string }[];
  readonly waves: { counts: { failed: number } }[];
}

/** Polls the rollout until it leaves PROGRESSING (bounded), then returns it with its events. */
async function waitForRollout(api: Api, id: string): Promise<RolloutView> {
  await waitFor(async () => {
    const data = await api.must<{ rollout: { phase: string } }>(`query($id: ID!) { rollout(id: $id) { phase } }`, { id });
    return data.rollout.phase !== 'PROGRESSING';
  }, `rollout ${id} to finish`, ROLLOUT_TIMEOUT_MS, 100);
  return (await api.must<{ rollout: RolloutView }>(`query($id: ID!) { rollout(id: $id) { phase reason events { kind at } waves { counts { failed } } } }`, { id })).rollout;
}
