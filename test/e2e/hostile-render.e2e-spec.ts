import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { httpProbe } from '../harness/probes.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

/**
 * RELIABILITY.md rows 9 and 22, and the finding of issue 14: a 1.9 KB previewAppSet whose leaves loop
 * 350 000 times blocked the event loop for 30 s, every agent stream dropped and /healthz stalled.
 * A real hub process with three real agents: while a looping render and a render of huge output run,
 * /healthz is probed every 20 ms (p99 < 100 ms on loopback), the agents keep their streams (no
 * reconnect), each render comes back stopped at its limit with an issue naming what it was rendering,
 * nothing of it is stored, and the pool renders normally afterwards.
 */

const CLUSTERS = ['edge-1', 'edge-2', 'edge-3'];
/**
 * The hub's render limits in this test. The time limit is the default (render-config.ts); the heap is
 * small so that the huge render runs out of it within a second or so, long before its time is up, even
 * on a busy machine.
 */
const RENDER_TIMEOUT_MS = 10_000;
const RENDER_MEMORY_MB = 64;
const PROBE_INTERVAL_MS = 20;
const HEALTHZ_P99_BOUND_MS = 100;

const letters = (n: number) => Array.from({ length: n }, (_, i) => `{ n: ${String.fromCharCode(97 + i)} }`).join(', ');

/**
 * 30 Apps (3 clusters × 10 list elements) of 20 leaves that each loop 350 000 times. LiquidJS cuts a
 * leaf at its own 100 ms render limit, so the whole render would take a minute on the event loop.
 */
const LOOPING = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: hostile }
spec:
  generators:
    - matrix:
        generators:
          - clusters: {}
          - list: { elements: [${letters(10)}] }
  template:
    name: "hostile-{{ n }}"
    namespace: hostile
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: hostile }
        data:
${Array.from({ length: 20 }, (_, i) => `          k${i}: "{% for i in (1..350000) %}x{% endfor %}"`).join('\n')}
`;

/** 192 Apps (3 × 8 × 8) of about 0.9 MB each (under the 1 MiB App cap): 170 MB, far more than the render heap. */
const HUGE = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: huge }
spec:
  generators:
    - matrix:
        generators:
          - clusters: {}
          - list: { elements: [${letters(8).replaceAll('n:', 'a:')}] }
          - list: { elements: [${letters(8).replaceAll('n:', 'b:')}] }
  template:
    name: "huge-{{ a }}{{ b }}"
    namespace: huge
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: huge }
        data: { blob: "{% for i in (1..900) %}${'y'.repeat(1000)}{% endfor %}" }
`;

const WEB = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { cluster: "{{ cluster.name }}" }
`;

interface Issue {
  code: string;
  path: string;
  message: string;
}

/** /healthz probed every PROBE_INTERVAL_MS, each on a fresh connection, until stopped. */
function probeHealthz(url: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let stopped = false;
  const loop = (async () => {
    // Bounded: stop() ends it, and a minute of probes is the most any test here needs.
    for (let i = 0; i < 60_000 / PROBE_INTERVAL_MS && !stopped; i++) {
      const started = performance.now();
      const answer = await httpProbe(url, { timeoutMs: 10_000 });
      if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      const took = performance.now() - started;
      latencies.push(took);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, PROBE_INTERVAL_MS - took)));
    }
  })();
  // Kept for stop(), which rethrows it: a probe that fails while the render still runs is no unhandled rejection.
  loop.catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      await loop;
      return latencies;
    },
  };
}

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** Counts an agent's stream openings and losses from its JSON log lines, from its start on. */
function watchLink(agent: ManagedProcess): { connected: number; dropped: number } {
  const counts = { connected: 0, dropped: 0 };
  let rest = '';
  agent.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"msg":"agent connected"')) counts.connected++;
      if (line.includes('"msg":"hub link down; reconnecting"')) counts.dropped++;
    }
  });
  return counts;
}

describe('a hostile render while agents are connected', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  const agents: ManagedProcess[] = [];
  const links: { connected: number; dropped: number }[] = [];
  let healthz: string;
  /** /healthz with no render running, on this machine now: context for a failure message, not a bound. */
  let idleP99 = Number.NaN;
  const latencyReport = (latencies: readonly number[]) =>
    `healthz p99 ${p99(latencies).toFixed(1)} ms over ${latencies.length} probes while rendering (idle, before: ${idleP99.toFixed(1)} ms); latencies (ms): ${latencies.map((l) => l.toFixed(1)).join(' ')}`;

  const clusters = async () => (await api.must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters;
  const preview = async (yaml: string) =>
    (await api.must<{ previewAppSet: { issues: Issue[]; totals: { added: number } | null } }>(`query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added } } }`, { y: yaml }))
      .previewAppSet;
  const apply = async (yaml: string) =>
    (await api.must<{ applyAppSet: { changed: boolean; issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path message } } }`, { y: yaml })).applyAppSet;

  /** Runs `render` while probing /healthz; the links of every agent must not move meanwhile. */
  const whileProbing = async <T>(render: () => Promise<T>): Promise<{ result: T; latencies: number[]; linksBefore: string; linksAfter: string }> => {
    const linksBefore = JSON.stringify(links);
    const probe = probeHealthz(healthz);
    let result: T;
    try {
      result = await render();
    } finally {
      await probe.stop().catch(() => undefined);
    }
    const latencies = await probe.stop();
    return { result, latencies, linksBefore, linksAfter: JSON.stringify(links) };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({
      databaseUrl: db.url,
      env: { FLOTILLA_RENDER_TIMEOUT_MS: String(RENDER_TIMEOUT_MS), FLOTILLA_RENDER_MEMORY_MB: String(RENDER_MEMORY_MB), FLOTILLA_RENDER_WORKERS: '1' },
    });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    healthz = hub.graphqlUrl.replace(/graphql$/, 'healthz');
    for (const name of CLUSTERS) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!) { registerCluster(input: { name: $name, labels: { env: "prod" } }) { bootstrapToken } }`,
        { name },
      );
      const agent = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: name, bootstrapToken: registerCluster.bootstrapToken });
      agents.push(agent);
      links.push(watchLink(agent));
    }
    await eventually(async () => (await clusters()).every((c) => c.connected) && links.every((l) => l.connected === 1), { what: 'every agent connected once', timeoutMs: 30_000 });
    const idle = probeHealthz(healthz);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    idleP99 = p99(await idle.stop());
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('stops a 1.9 KB preview whose leaves loop 350 000 times at its time limit, naming the App and the template string, while /healthz and the agent streams stay up', async () => {
    expect(Buffer.byteLength(LOOPING)).toBeLessThan(2_000);

    const { result, latencies, linksBefore, linksAfter } = await whileProbing(() => preview(LOOPING));

    expect(result.totals).toBeNull();
    expect(result.issues).toHaveLength(1);
    const [stopped] = result.issues;
    expect(stopped!.code).toBe('RENDER_TIMEOUT');
    expect(stopped!.path).toMatch(/^spec\.template\.manifests\[0\]\.data\.k\d+$/);
    expect(stopped!.message).toContain('AppSet "hostile"');
    expect(stopped!.message).toContain(`${RENDER_TIMEOUT_MS} ms (FLOTILLA_RENDER_TIMEOUT_MS)`);
    expect(stopped!.message).toMatch(/App \d+ of 30 \(cluster edge-\d, from spec\.generators\[0\]\.matrix/);
    // The render ran for its whole limit while /healthz was probed: enough samples for a p99.
    expect(latencies.length).toBeGreaterThanOrEqual(100);
    expect(p99(latencies), latencyReport(latencies)).toBeLessThan(HEALTHZ_P99_BOUND_MS);
    expect(linksAfter).toBe(linksBefore);
    expect((await clusters()).every((c) => c.connected)).toBe(true);
  });

  it('stops an apply whose output outgrows the render heap, stores nothing of it, and the streams stay up', async () => {
    const { result, latencies, linksBefore, linksAfter } = await whileProbing(() => apply(HUGE));

    expect(result.changed).toBe(false);
    expect(result.issues.map((i) => i.code)).toEqual(['RENDER_MEMORY_LIMIT']);
    expect(result.issues[0]!.message).toContain(`AppSet "huge" needed more than ${RENDER_MEMORY_MB} MiB of memory (FLOTILLA_RENDER_MEMORY_MB)`);
    expect(result.issues[0]!.message).toMatch(/App \d+ of 192 \(cluster edge-\d, from spec\.generators\[0\]\.matrix/);
    expect(p99(latencies), latencyReport(latencies)).toBeLessThan(HEALTHZ_P99_BOUND_MS);
    expect(linksAfter).toBe(linksBefore);
    // Nothing stored: no AppSet, so nothing staged and nothing sent.
    expect((await api.gql<{ appSet: unknown }>(`{ appSet(name: "huge") { name } }`)).errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('renders normally after the stopped renders: a preview, then an apply that stages an App on every cluster', async () => {
    const previewed = await preview(WEB);
    expect(previewed.issues).toEqual([]);
    expect(previewed.totals).toEqual({ added: CLUSTERS.length });
    const applied = await apply(WEB);
    expect(applied).toEqual({ changed: true, issues: [] });
    const staged = await api.must<{ appSet: { apps: { cluster: string }[] } }>(`{ appSet(name: "web") { apps { cluster } } }`);
    expect(staged.appSet.apps.map((a) => a.cluster).sort()).toEqual(CLUSTERS);
    expect(links.every((l) => l.connected === 1 && l.dropped === 0)).toBe(true);
  });

  it('shuts down cleanly with its render workers: SIGTERM ends the hub with exit code 0', async () => {
    await hub.stop('SIGTERM', 15_000);
    expect(hub.child.signalCode).toBeNull();
    expect(hub.child.exitCode).toBe(0);
  });
});
