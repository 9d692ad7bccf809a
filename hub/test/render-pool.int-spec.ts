import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '@flotilla/proto';
import type { RenderConfig } from '../src/config/render-config';
import type { AppSizeConfig } from '../src/config/app-size-config';
import { parseAppSet } from '../src/core/app-set/parse-app-set';
import { expandAppSet } from '../src/core/expand-app-set';
import { EMPTY_GIT_SNAPSHOT } from '../src/core/generators/git-snapshot';
import type { ClusterSnapshot } from '../src/core/generators/param-set';
import { projectScope, type ProjectRule } from '../src/core/projects/project-rule';
import { FlotillaError } from '../src/errors';
import { RenderPool } from '../src/render-pool/render-pool';
import type { RenderInput } from '../src/render-pool/render-task';

/**
 * The render pool with real worker threads (the workers run the TypeScript sources through the pool's
 * test bootstrap): renders off the event loop, stopped at their time and memory limits, reported with
 * what was being rendered, and a pool that recovers and shuts down without leaving a thread behind.
 */

const PROJECT: ProjectRule = { name: 'default', clusterSelector: {}, namespaces: ['*'], kinds: [], clusterScoped: true };
const clusters = (n: number): ClusterSnapshot[] => Array.from({ length: n }, (_, i) => ({ name: `edge-${i + 1}`, labels: { region: `r${i % 3}` }, values: {} }));

const appSet = (name: string, data: string) => {
  const parsed = parseAppSet(`
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: {}
  template:
    name: "${name}"
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: ${data}
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};

const input = (document: ReturnType<typeof appSet>, n = 3): RenderInput => ({ document, clusters: clusters(n), git: EMPTY_GIT_SNAPSHOT, project: PROJECT });

const NORMAL = appSet('web', '{ region: "{{ cluster.labels.region }}", cluster: "{{ cluster.name }}" }');
/** Every leaf loops 350 000 times: LiquidJS stops each after its own 100 ms, so 40 leaves take 4 s per App. */
const LOOPING = appSet('hostile', `{ ${Array.from({ length: 40 }, (_, i) => `k${i}: "{% for i in (1..350000) %}x{% endfor %}"`).join(', ')} }`);
/** About 0.9 MB per App, so that many Apps outgrow a small heap. */
const BULKY = appSet('bulky', `{ blob: "{% for i in (1..900) %}${'y'.repeat(1000)}{% endfor %}" }`);

const settings = (overrides: Partial<RenderConfig & AppSizeConfig> = {}): RenderConfig & Partial<AppSizeConfig> => ({ timeoutMs: 10_000, memoryMb: 256, workers: 1, maxOutputBytes: 256 * 2 ** 20, ...overrides });

// Each worker compiles the sources it runs when it starts (see render-worker.dev.cjs): slow on a busy machine.
describe('the render pool', { timeout: 90_000 }, () => {
  const pools: RenderPool[] = [];
  const pool = (overrides: Partial<RenderConfig & AppSizeConfig> = {}) => {
    const made = new RenderPool(settings(overrides));
    pools.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.destroy()));
  });

  it('expands an AppSet in a worker to what the core expansion gives, with the project scope on every App', async () => {
    const expected = expandAppSet(NORMAL, clusters(5));
    const outcome = await pool().expand(input(NORMAL, 5));
    expect(outcome.issues).toEqual([]);
    expect(outcome.apps.map((a) => [a.clusterName, a.appName, a.revision, a.manifestsJson])).toEqual(expected.apps.map((a) => [a.clusterName, a.appName, a.revision, canonicalJson(a.manifests)]));
    expect(outcome.apps.every((a) => JSON.stringify(a.syncPolicy.projectScope) === JSON.stringify(projectScope(PROJECT)))).toBe(true);
  });

  it('hands back thousands of Apps, in order, whatever the number of messages they travel in', async () => {
    const expected = expandAppSet(NORMAL, clusters(2_345));
    const outcome = await pool().expand(input(NORMAL, 2_345));
    expect(outcome.apps.map((a) => a.revision)).toEqual(expected.apps.map((a) => a.revision));
  });

  it('stops a looping render at its wall-clock limit and names the AppSet, the App and the template string', async () => {
    const outcome = await pool({ timeoutMs: 1_000 }).expand(input(LOOPING));
    expect(outcome.apps).toEqual([]);
    expect(outcome.issues).toHaveLength(1);
    const [stopped] = outcome.issues;
    expect(stopped!.code).toBe('RENDER_TIMEOUT');
    expect(stopped!.path).toMatch(/^spec\.template\.manifests\[0\]\.data\.k\d+$/);
    expect(stopped!.message).toContain('AppSet "hostile"');
    // The first App alone would loop for 4 s: the render was stopped inside it, at the limit.
    expect(stopped!.message).toMatch(/App 1 of 3 \(cluster edge-1, from spec\.generators\[0\]\.clusters/);
  });

  it('stops a render that outgrows its heap limit and names what it was rendering', async () => {
    const outcome = await pool({ memoryMb: 64, timeoutMs: 120_000 }).expand(input(BULKY, 400));
    expect(outcome.apps).toEqual([]);
    expect(outcome.issues.map((i) => i.code)).toEqual(['RENDER_MEMORY_LIMIT']);
    expect(outcome.issues[0]!.message).toContain('AppSet "bulky"');
    expect(outcome.issues[0]!.message).toMatch(/needed more than 64 MiB .*App \d+ of 400 \(cluster edge-\d+/);
  });

  it('refuses an expansion whose manifests together exceed the output cap', async () => {
    const outcome = await pool({ maxOutputBytes: 2 * 2 ** 20 }).expand(input(BULKY, 4));
    expect(outcome.apps).toEqual([]);
    expect(outcome.issues.map((i) => i.code)).toEqual(['EXPANSION_TOO_LARGE']);
    expect(outcome.issues[0]!.message).toMatch(/renders 4 Apps of 4 MiB .*the limit is 2 MiB \(FLOTILLA_RENDER_MAX_OUTPUT_MB\)/);
  });

  it('refuses an App over the configured App cap (FLOTILLA_MAX_APP_MB) in the worker', async () => {
    const outcome = await pool({ maxAppBytes: 512 * 1024 }).expand(input(BULKY, 1));
    expect(outcome.apps).toEqual([]);
    expect(outcome.issues.map((i) => i.code)).toEqual(['APP_TOO_LARGE']);
    expect(outcome.issues[0]!.message).toMatch(/renders to \d+ bytes; the limit is 524288/);
  });

  const parse = (yaml: string) => {
    const parsed = parseAppSet(yaml);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.value;
  };
  const list = (key: string, n: number) => `{ list: { elements: [${Array.from({ length: n }, (_, i) => `{ ${key}: ${i} }`).join(', ')}] } }`;
  it.each([
    {
      cap: 'parameter sets',
      code: 'TOO_MANY_PARAM_SETS',
      generators: `[{ matrix: { generators: [{ clusters: {} }, ${list('a', 60)}, ${list('b', 60)}, ${list('c', 10)}] } }]`,
      data: '{ x: "{{ a }}-{{ b }}-{{ c }}" }',
    },
    {
      // 16 strings of 1.1 MB: over the default 16 MiB cap (FLOTILLA_MAX_APP_MB).
      cap: 'bytes of one App',
      code: 'APP_TOO_LARGE',
      generators: '[{ clusters: {} }]',
      data: `{ ${Array.from({ length: 16 }, (_, i) => `blob${i}: "{% for i in (1..1100) %}${'z'.repeat(1000)}{% endfor %}"`).join(', ')} }`,
    },
    { cap: 'render time of one template string', code: 'RENDER_TIME_LIMIT', generators: '[{ clusters: {} }]', data: '{ slow: "{% for i in (1..350000) %}x{% endfor %}" }' },
    { cap: "LiquidJS's memory of one template string", code: 'RENDER_MEMORY_LIMIT', generators: '[{ clusters: {} }]', data: '{ wide: "{% for i in (1..5000000) %}x{% endfor %}" }' },
  ])('keeps the core cap on $cap inside the worker ($code), and stages nothing', async ({ code, generators, data }) => {
    const document = parse(`
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: capped }
spec:
  generators: ${generators}
  template:
    name: capped
    namespace: web
    manifests: [{ apiVersion: v1, kind: ConfigMap, metadata: { name: capped }, data: ${data} }]
`);
    const outcome = await pool().expand({ ...input(document), document });
    expect(outcome.apps).toEqual([]);
    expect(new Set(outcome.issues.map((i) => i.code))).toEqual(new Set([code]));
  });

  // The memory case has all the time it needs: on a busy machine it must not be stopped by the clock first.
  it.each([
    { limit: 'time', overrides: { timeoutMs: 1_000 }, hostile: () => input(LOOPING), code: 'RENDER_TIMEOUT' },
    { limit: 'memory', overrides: { memoryMb: 64, timeoutMs: 120_000 }, hostile: () => input(BULKY, 400), code: 'RENDER_MEMORY_LIMIT' },
  ])('renders normally again, each time, after a worker was stopped at its $limit limit', async ({ overrides, hostile, code }) => {
    const renders = pool(overrides);
    for (let round = 0; round < 2; round++) {
      expect((await renders.expand(hostile())).issues.map((i) => i.code)).toEqual([code]);
      expect((await renders.expand(input(NORMAL))).apps).toHaveLength(3);
    }
    expect(renders.threadCount).toBe(1);
  });

  it('starts the clock when a worker starts the render, not while it waits for one', async () => {
    const renders = pool({ timeoutMs: 1_500 });
    const [hostile, normal] = await Promise.all([renders.expand(input(LOOPING)), renders.expand(input(NORMAL))]);
    expect(hostile.issues[0]!.code).toBe('RENDER_TIMEOUT');
    expect(normal.issues).toEqual([]);
    expect(normal.apps).toHaveLength(3);
  });

  it('refuses a render beyond the bounded queue as UNAVAILABLE, with a retry delay', async () => {
    const renders = pool({ timeoutMs: 300 });
    // One running and four queued (QUEUE_PER_WORKER) fill a one-worker pool.
    const held = Array.from({ length: 5 }, () => renders.expand(input(LOOPING)));
    const refused = await renders.expand(input(NORMAL)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(FlotillaError);
    expect((refused as FlotillaError).code).toBe('UNAVAILABLE');
    expect((refused as FlotillaError).retryAfterMs).toBe(300);
    expect((await Promise.all(held)).map((o) => o.issues[0]!.code)).toEqual(Array(5).fill('RENDER_TIMEOUT'));
  });

  it('computes a preview in the worker: added, changed and removed Apps with diffs', async () => {
    const renders = pool();
    const before = expandAppSet(NORMAL, clusters(3));
    const staged = [
      ...before.apps.slice(0, 2).map((a) => ({ clusterName: a.clusterName, appName: a.appName, revision: a.revision, manifestsJson: canonicalJson(a.manifests) })),
      { clusterName: 'gone-1', appName: 'web', revision: 'f'.repeat(64), manifestsJson: '[]' },
    ];
    const changed = appSet('web', '{ region: "{{ cluster.labels.region }}", cluster: "{{ cluster.name }}", extra: "1" }');
    const outcome = await renders.preview({ ...input(changed), staged, markerKey: new Uint8Array(32) });
    expect(outcome.issues).toEqual([]);
    expect(outcome.stagedCount).toBe(3);
    expect(outcome.preview!.totals).toEqual({ added: 1, removed: 1, changed: 2, unchanged: 0 });
    const edge1 = outcome.preview!.clusters.find((c) => c.clusterName === 'edge-1')!;
    expect(edge1.changed[0]!.diff).toContain('+  extra: "1"');
  });

  it('stops a looping preview like an expansion', async () => {
    const outcome = await pool({ timeoutMs: 500 }).preview({ ...input(LOOPING), staged: [], markerKey: new Uint8Array(32) });
    expect(outcome.preview).toBeNull();
    expect(outcome.issues.map((i) => i.code)).toEqual(['RENDER_TIMEOUT']);
  });

  it('terminates every worker on destroy: renders running or asked for afterwards fail as UNAVAILABLE', async () => {
    const renders = pool({ workers: 2 });
    expect((await renders.expand(input(NORMAL))).apps).toHaveLength(3);
    const running = renders.expand(input(LOOPING)).then(
      () => undefined,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await renders.destroy();
    expect(renders.threadCount).toBe(0);
    expect(((await running) as FlotillaError).code).toBe('UNAVAILABLE');
    await expect(renders.expand(input(NORMAL))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
