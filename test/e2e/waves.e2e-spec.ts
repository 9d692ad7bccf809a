import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

const REGIONS = ['us', 'eu', 'ap'];
const CLUSTERS = REGIONS.flatMap((region) => [1, 2, 3].map((n) => ({ name: `${region}-${n}`, region })));

/** An AppSet over every cluster rolled out us → eu → ap. Apps named `bad*` fail in eu (see the agents). */
const appSet = (name: string, strategy: string, policy: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: { region: "{{ cluster.labels.region }}" }
  strategy:
    byLabel: { label: region, order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m${strategy ? `, ${strategy}` : ''} }
${policy ? `    ${policy}\n` : ''}`;

interface RolloutView {
  phase: string;
  currentWave: string | null;
  reason: string;
  waves: { name: string; counts: { total: number; pending: number; healthy: number; failed: number } }[];
  events: { kind: string; message: string }[];
}

describe('rollouts in waves over nine agents in three regions', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let api: ReturnType<typeof graphqlClient>;

  const rollout = async (id: string) =>
    (
      await api.must<{ rollout: RolloutView }>(
        `query($id: ID!) { rollout(id: $id) { phase currentWave reason waves { name counts { total pending healthy failed } } events { kind message } } }`,
        { id },
      )
    ).rollout;
  const wave = (view: RolloutView, name: string) => view.waves.find((w) => w.name === name)!.counts;
  const start = async (name: string, strategy = '', policy = '') => {
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, {
      y: appSet(name, strategy, policy),
    });
    expect(applied.applyAppSet.issues).toEqual([]);
    return (await api.must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: name })).startRollout.id;
  };
  const until = (id: string, what: string, check: (v: RolloutView) => boolean) =>
    eventually(async () => {
      const view = await rollout(id);
      return check(view) ? view : undefined;
    }, { what, timeoutMs: 45_000 });
  const verb = async (mutation: string, id: string, extra = '') =>
    api.must<Record<string, { phase: string }>>(`mutation($id: ID!) { ${mutation}(id: $id${extra}) { phase } }`, { id });

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    for (const cluster of CLUSTERS) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { region: cluster.region } },
      );
      agents.push(
        startAgent({
          hubAddress: hub.grpcAddress,
          hubCa: hub.caBundle,
          cluster: cluster.name,
          bootstrapToken: registerCluster.bootstrapToken,
          env: cluster.region === 'eu' ? { FLOTILLA_SIM_FAIL_APPS: 'bad*' } : {},
        }),
      );
    }
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.filter((c) => c.connected).length === 9, {
      what: 'nine agents connected',
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('runs three waves in order, each after the previous one is healthy and soaked', async () => {
    const id = await start('web');
    const done = await until(id, 'SUCCEEDED', (v) => v.phase === 'SUCCEEDED');
    const started = done.events.filter((e) => e.kind === 'WAVE_STARTED').map((e) => e.message);
    expect(started).toEqual(['Wave us started.', 'Wave eu started.', 'Wave ap started.']);
    for (const region of REGIONS) expect(wave(done, region)).toMatchObject({ total: 3, healthy: 3 });
  });

  it('failures in the second region pause the rollout and leave the third region untouched', async () => {
    const id = await start('bad-pause');
    const paused = await until(id, 'PAUSED', (v) => v.phase === 'PAUSED');
    expect(paused.currentWave).toBe('eu');
    expect(paused.reason).toContain('Failure budget of wave eu breached');
    expect(wave(paused, 'us')).toMatchObject({ healthy: 3 });
    expect(wave(paused, 'eu').failed).toBeGreaterThan(0);
    expect(wave(paused, 'ap')).toMatchObject({ total: 3, pending: 3 });
  });

  it('with onFailure rollback, failures in the second region roll the released clusters back and leave the third untouched', async () => {
    const id = await start('bad-rollback', '', 'onFailure: rollback');
    const rolledBack = await until(id, 'ROLLED_BACK', (v) => v.phase === 'ROLLED_BACK');
    expect(wave(rolledBack, 'ap')).toMatchObject({ total: 3, pending: 3 });
    // The App did not exist before this rollout, so rolling back removes it where it was released.
    await eventually(async () => {
      const { appSet: view } = await api.must<{ appSet: { apps: { cluster: string; revision: string | null }[] } }>(`{ appSet(name: "bad-rollback") { apps { cluster revision } } }`);
      return view.apps.every((a) => a.revision === null);
    }, { what: 'released Apps removed' });
  });

  it('a wave that needs approval waits for approveWave, and the rollout then completes', async () => {
    const id = await start('gated', 'approval: true');
    const waiting = await until(id, 'awaiting approval', (v) => v.reason.includes('wave us awaits approval'));
    expect(wave(waiting, 'us').pending).toBe(3);
    for (const region of REGIONS) {
      await until(id, `waiting for ${region}`, (v) => v.reason.includes(`wave ${region} awaits approval`));
      await api.must(`mutation($id: ID!, $w: String!) { approveWave(id: $id, wave: $w, reason: "looks good") { phase } }`, { id, w: region });
    }
    const done = await until(id, 'SUCCEEDED', (v) => v.phase === 'SUCCEEDED');
    expect(done.events.filter((e) => e.kind === 'APPROVED')).toHaveLength(3);
  });

  it('pause holds a rollout where it is and resume lets it finish', async () => {
    const id = await start('paused', 'approval: true');
    await until(id, 'awaiting approval', (v) => v.reason.includes('awaits approval'));
    expect((await verb('pauseRollout', id, ', reason: "freeze"')).pauseRollout!.phase).toBe('PAUSED');
    await api.must(`mutation($id: ID!) { approveWave(id: $id, wave: "us") { phase } }`, { id });
    const held = await rollout(id);
    expect(held.phase).toBe('PAUSED');
    expect(wave(held, 'us').pending).toBe(3);
    expect((await verb('resumeRollout', id)).resumeRollout!.phase).toBe('PROGRESSING');
    await until(id, 'us healthy', (v) => wave(v, 'us').healthy === 3);
  });

  it('abort stops the rollout: released clusters keep the new revision, later waves get nothing', async () => {
    const id = await start('aborted', 'approval: false');
    await until(id, 'us healthy', (v) => wave(v, 'us').healthy === 3);
    const aborted = await verb('abortRollout', id, ', reason: "enough"');
    expect(aborted.abortRollout!.phase).toBe('ABORTED');
    const { appSet: view } = await api.must<{ appSet: { apps: { cluster: string; revision: string | null }[] } }>(`{ appSet(name: "aborted") { apps { cluster revision } } }`);
    const released = view.apps.filter((a) => a.revision !== null).map((a) => a.cluster);
    expect(released).toEqual(expect.arrayContaining(['us-1', 'us-2', 'us-3']));
    const after = await rollout(id);
    expect(after.phase).toBe('ABORTED');
    expect(after.events.map((e) => e.kind)).toContain('ABORTED');
  });

  it('a rolloutProgress subscription streams the rollout as it moves, until it succeeds', async () => {
    await api.must(`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSet('watched', 'approval: true', '') });
    const id = (await api.must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "watched") { id } }`)).startRollout.id;
    const client = createClient({
      url: hub.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      // graphql-ws carries no HTTP headers: the token goes in the connection_init payload.
      connectionParams: { authorization: bearer(hub.adminToken) },
    });
    const seen: { phase: string; currentWave: string | null; healthy: number }[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      client.subscribe<{ rolloutProgress: { phase: string; currentWave: string | null; counts: { healthy: number } } }>(
        { query: `subscription($id: ID!) { rolloutProgress(id: $id) { phase currentWave counts { healthy } } }`, variables: { id } },
        {
          next: ({ data }) => data && seen.push({ phase: data.rolloutProgress.phase, currentWave: data.rolloutProgress.currentWave, healthy: data.rolloutProgress.counts.healthy }),
          error: reject,
          complete: resolve,
        },
      );
    });
    try {
      for (const region of REGIONS) {
        await until(id, `waiting for ${region}`, (v) => v.reason.includes(`wave ${region} awaits approval`));
        await api.must(`mutation($id: ID!, $w: String!) { approveWave(id: $id, wave: $w) { phase } }`, { id, w: region });
      }
      await finished;
    } finally {
      await client.dispose();
    }
    expect(seen.at(-1)).toMatchObject({ phase: 'SUCCEEDED', healthy: 9 });
    expect(seen.map((s) => s.currentWave)).toEqual(expect.arrayContaining(['us', 'eu', 'ap']));
    expect(seen.length).toBeGreaterThanOrEqual(4);
  });
});
