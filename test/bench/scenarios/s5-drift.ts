/**
 * S5: drift. An out-of-band write to a managed object → the agent detects it → re-applies → reports.
 *
 * Project: the agent's real KubeDriver (agent/src/driver/kube) with the product's default tuning
 * (drift debounce 1 s; heal backoff 2 s base: the first heal of an object waits 1–2 s) and default
 * client rate limit, against the in-process Kubernetes API test server, one App of ConfigMaps under
 * `drift: heal`. Each round edits a different ConfigMap (a merge patch by another field manager):
 * repeated heals of one object would soon count as a fight (3 per 5 minutes). detect = write → the
 * driver publishes a status with that object drifted; correct = write → the live object is restored.
 * Baseline, same server: a raw watch on an unmanaged ConfigMap, write → watch event (detect floor),
 * plus one raw server-side apply round trip (correct floor = event latency + apply round trip).
 * The ratios are dominated by the debounce and the heal backoff, by design.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftPolicy, revisionOf, SyncMode } from '@flotilla/proto';
import { FileStateStore } from '../../../agent/src/cache/state-store.js';
import { systemClock } from '../../../agent/src/clock.js';
import type { AppStatus } from '../../../agent/src/driver/cluster-driver.js';
import { APPLY_PATCH, DEFAULT_RATE_LIMIT, KubeClient, MERGE_PATCH, type WatchEvent } from '../../../agent/src/driver/kube/kube-client.js';
import { loadKubeConnection } from '../../../agent/src/driver/kube/kube-config.js';
import { KubeDriver } from '../../../agent/src/driver/kube/kube-driver.js';
import { DEFAULT_DRIVER_TUNING } from '../../../agent/src/driver/kube/tracked-app.js';
import { silentLogger } from '../../../agent/src/log.js';
import { KubeApiTestServer } from '../../../agent/test/kube-api-server/index.js';
import { onCleanup } from '../lib/cleanup.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { waitFor } from '../lib/proc.js';
import type { Profile, Scenario } from './registry.js';

const NS = 'bench-drift';
const APP = 'drift';
const PAIRS: Record<Profile, number> = { quick: 5, full: 10 };
const WARMUP = 1;

export const S5: Scenario = {
  id: 'S5',
  title: 'drift: out-of-band write → agent detects → re-applies (heal)',
  notes: [
    `project: the agent's KubeDriver with default tuning (driftDebounceMs ${DEFAULT_DRIVER_TUNING.driftDebounceMs}, heal backoff ${DEFAULT_DRIVER_TUNING.heal.healBackoff.baseMs} ms base, i.e. the first heal of an object waits ${DEFAULT_DRIVER_TUNING.heal.healBackoff.baseMs / 2}–${DEFAULT_DRIVER_TUNING.heal.healBackoff.baseMs} ms), on the in-process Kubernetes API test server; a different ConfigMap per round`,
    'baseline: raw watch event latency (detect); + one raw server-side apply round trip (correct); same server, unmanaged object',
    'the ratios mostly measure the debounce and the heal backoff (deliberate, to coalesce bursts and avoid fights), not I/O; figures in ms',
  ],
  groups: () => ['heal'],
  groupTimeoutMs: () => 5 * 60_000,
  runGroup: async (_group, profile) => [await runCase(profile)],
};

const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const cmPath = (name: string) => `/api/v1/namespaces/${NS}/configmaps/${name}`;

async function runCase(profile: Profile): Promise<CaseResult> {
  const rounds = WARMUP + PAIRS[profile];
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s5-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const server = await KubeApiTestServer.start();
  onCleanup(() => server.close());
  await server.writeKubeconfig(join(dir, 'kubeconfig'));
  const loaded = loadKubeConnection(join(dir, 'kubeconfig'));
  if (!loaded.ok) throw new Error(loaded.message);
  onCleanup(() => loaded.connection.close());
  // The bench's own client (writes, raw watch): not rate limited like the agent's.
  const own = new KubeClient({ endpoint: loaded.connection.endpoint, clock: systemClock, rateLimit: { qps: 1000, burst: 1000 } });
  onCleanup(() => own.close());
  await own.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });

  const driverClient = new KubeClient({ endpoint: loaded.connection.endpoint, clock: systemClock, rateLimit: DEFAULT_RATE_LIMIT });
  const driver = await KubeDriver.create({ client: driverClient, store: new FileStateStore(join(dir, 'state')), clock: systemClock, random01: Math.random, log: silentLogger });
  onCleanup(() => driver.close());
  const driftSeen = new Map<string, number>();
  driver.onStatusChange((status: AppStatus) => {
    const now = performance.now();
    for (const r of status.resources) if (r.drifted && !driftSeen.has(r.name)) driftSeen.set(r.name, now);
  });
  const names = Array.from({ length: rounds }, (_, i) => `cm-${i}`);
  const manifests = names.map((name) => configMap(name, { color: 'blue' }));
  const result = await driver.apply({
    appName: APP,
    appSet: `${APP}-set`,
    revision: revisionOf(manifests),
    generation: 1n,
    namespace: NS,
    manifests,
    syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.HEAL, preserveResourcesOnDeletion: false },
  });
  if (result.kind !== 'done') throw new Error(`apply: ${JSON.stringify(result)}`);
  await waitFor(() => (driver.status(APP)?.resources.length ?? 0) >= rounds, 'the App applied', 30_000, 20);
  const restored = (name: string) => (server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name }) as { data?: Record<string, string> } | undefined)?.data?.['color'] === 'blue';

  // The raw side: one unmanaged ConfigMap and a watch on it.
  await own.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: configMap('raw', { color: 'blue' }) });
  let lastEvent: { color: string | undefined; at: number } = { color: 'blue', at: 0 };
  const watchStop = new AbortController();
  onCleanup(() => watchStop.abort());
  void own
    .watch(`/api/v1/namespaces/${NS}/configmaps`, { fieldSelector: 'metadata.name=raw' }, (event: WatchEvent) => {
      if (event.type === 'MODIFIED') lastEvent = { color: (event.object as { data?: Record<string, string> }).data?.['color'], at: performance.now() };
    }, watchStop.signal)
    .catch(() => undefined);
  await new Promise((done) => setTimeout(done, 200));

  let round = 0;
  const project = async (): Promise<Figures> => {
    const name = names[round++]!;
    const written = performance.now();
    await own.request('PATCH', cmPath(name), { query: { fieldManager: 'kubectl-edit' }, contentType: MERGE_PATCH, body: { data: { color: `green-${round}` } } });
    await waitFor(() => driftSeen.has(name), `drift of ${name} reported`, 60_000, 2);
    await waitFor(() => restored(name), `${name} healed`, 60_000, 2);
    const correct = performance.now() - written;
    return { detect: driftSeen.get(name)! - written, correct };
  };
  let rawRound = 0;
  const baseline = async (): Promise<Figures> => {
    const color = `green-${++rawRound}`;
    const written = performance.now();
    await own.request('PATCH', cmPath('raw'), { query: { fieldManager: 'kubectl-edit' }, contentType: MERGE_PATCH, body: { data: { color } } });
    await waitFor(() => lastEvent.color === color, 'the raw watch event', 30_000, 1);
    const detect = lastEvent.at - written;
    const applyStarted = performance.now();
    await own.request('PATCH', cmPath('raw'), { query: { fieldManager: 'bench-raw', force: true }, contentType: APPLY_PATCH, body: configMap('raw', { color: 'blue' }) });
    return { detect, correct: detect + (performance.now() - applyStarted) };
  };
  const run = await alternate({ warmup: WARMUP, pairs: PAIRS[profile], budgetMs: 4 * 60_000 }, project, baseline);
  return {
    label: 'ConfigMap, heal',
    n: 1,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['detect', 'correct']),
    facts: { driftDebounceMs: DEFAULT_DRIVER_TUNING.driftDebounceMs, healBackoffBaseMs: DEFAULT_DRIVER_TUNING.heal.healBackoff.baseMs, 'client rate limit qps': DEFAULT_RATE_LIMIT.qps },
    raw: run,
  };
}
