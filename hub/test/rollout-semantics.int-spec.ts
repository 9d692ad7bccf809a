import { Health, type DesiredApp } from '@flotilla/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { FakeAgent } from './support/fake-agent';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { configMapAppSetYaml } from './support/app-set-yaml';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** An AppSet over the clusters labelled `suite: <suite>`, with the given `spec.strategy` (YAML, indented under it). */
const appSetYaml = (name: string, suite: string, strategy = '') => configMapAppSetYaml(name, { suite }, { data: '{ cluster: "{{ cluster.name }}" }', strategy });

interface RolloutView {
  id: string;
  phase: string;
  reason: string;
  skippedClusters: string[];
  waves: { name: string; clusters: string[]; approval: boolean; maxConcurrency: number }[];
  targets: { cluster: string; wave: string; state: string; generation: string | null }[];
  events: { kind: string; message: string }[];
}
const ROLLOUT_FIELDS = 'id phase reason skippedClusters waves { name clusters approval maxConcurrency } targets { cluster wave state generation } events { kind message }';

describe('rollout semantics: nothing to do, canaries, the implicit wave, skipped clusters, FAILED', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;
  const agents = new Map<string, FakeAgent>();

  const register = async (name: string, labels: Record<string, string>): Promise<string> => {
    const res = await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: name, l: labels });
    expect(res.errors).toBeUndefined();
    return res.data!.registerCluster.bootstrapToken;
  };
  /** Registers a cluster and connects a fake agent for it; resolves once the hub counts it connected. */
  const online = async (name: string, labels: Record<string, string>): Promise<FakeAgent> => {
    const agent = new FakeAgent(hub, name, await register(name, labels));
    agents.set(name, agent);
    agent.connect();
    await eventually(async () => (await gql<{ cluster: { connected: boolean } }>(`query($n: String!) { cluster(name: $n) { connected } }`, { n: name })).data?.cluster.connected, { what: `${name} connected` });
    return agent;
  };
  const apply = async (yaml: string) => {
    const res = await gql<{ applyAppSet: { changed: boolean; issues: { code: string }[]; warnings: { code: string; path: string; message: string }[] } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code } warnings { code path message } } }`,
      { y: yaml },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.applyAppSet;
  };
  const start = async (appSet: string): Promise<RolloutView> => {
    const res = await gql<{ startRollout: RolloutView }>(`mutation($a: String!) { startRollout(appSet: $a) { ${ROLLOUT_FIELDS} } }`, { a: appSet });
    expect(res.errors).toBeUndefined();
    return res.data!.startRollout;
  };
  const rollout = async (id: string): Promise<RolloutView> => (await gql<{ rollout: RolloutView }>(`query($id: ID!) { rollout(id: $id) { ${ROLLOUT_FIELDS} } }`, { id })).data!.rollout;
  const desiredOf = (agent: FakeAgent, app: string): Promise<DesiredApp> =>
    eventually(async () => agent.desired().find((d) => d.appName === app), { what: `${app} released` });

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '200', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }));
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const agent of agents.values()) agent.close();
    await hub?.stop();
    await db?.drop();
  });

  it('an AppSet whose selector matches no cluster is accepted with a NO_TARGET_CLUSTERS warning, and its rollout finishes NOTHING_TO_DO with no wave', async () => {
    await register('lonely-1', { suite: 'lonely' });
    const applied = await apply(appSetYaml('nowhere', 'mars'));
    expect(applied).toMatchObject({ changed: true, issues: [] });
    expect(applied.warnings).toEqual([expect.objectContaining({ code: 'NO_TARGET_CLUSTERS', path: 'spec.generators' })]);
    expect(applied.warnings[0]!.message).toContain('none of the 1 registered cluster(s)');

    const started = await start('nowhere');
    expect(started).toMatchObject({ phase: 'NOTHING_TO_DO', waves: [], targets: [] });
    expect(started.reason).toContain('stages no App on any cluster');
    expect(started.events.map((e) => e.kind)).toEqual(['STARTED', 'NOTHING_TO_DO']);
  });

  it('an AppSet with Apps gets no warning', async () => {
    await register('fine-1', { suite: 'fine' });
    expect((await apply(appSetYaml('fine', 'fine'))).warnings).toEqual([]);
  });

  it('a rollout with nothing new to release finishes NOTHING_TO_DO and leaves the active rollout watching its clusters', async () => {
    const agent = await online('soak-1', { suite: 'soak', region: 'eu' });
    await apply(appSetYaml('soaking', 'soak', `    waves: [{ name: all, soak: 1h }]`));
    const first = await start('soaking');
    agent.applyAndReport(await desiredOf(agent, 'soaking'), Health.HEALTHY);
    await eventually(async () => (await rollout(first.id)).targets.every((t) => t.state === 'HEALTHY'), { what: 'soak-1 healthy' });

    const second = await start('soaking');
    expect(second.phase).toBe('NOTHING_TO_DO');
    expect(second.reason).toContain('every cluster already runs what revision 1 stages');
    expect((await rollout(first.id)).phase).toBe('PROGRESSING');
  });

  it('a revert to what is released while the bad rollout still waits finishes NOTHING_TO_DO and supersedes the bad rollout, so it never releases', async () => {
    const agent = await online('revert-1', { suite: 'revert' });
    const good = appSetYaml('reverted', 'revert', `    waves: [{ name: all, soak: 0s }]`);
    await apply(good);
    const first = await start('reverted');
    agent.applyAndReport(await desiredOf(agent, 'reverted'), Health.HEALTHY);
    await eventually(async () => (await rollout(first.id)).phase === 'SUCCEEDED', { what: 'first SUCCEEDED' });

    await apply(appSetYaml('reverted', 'revert', `    waves: [{ name: all, soak: 0s, approval: true }]`).replace('data: { cluster:', 'data: { bad: "yes", cluster:'));
    const bad = await start('reverted');
    expect(bad.phase).toBe('PROGRESSING');
    await apply(good);
    const revert = await start('reverted');
    expect(revert.phase).toBe('NOTHING_TO_DO');
    const superseded = await rollout(bad.id);
    expect(superseded.phase).toBe('SUPERSEDED');
    expect(superseded.targets.map((t) => [t.cluster, t.generation])).toEqual([['revert-1', null]]);
  });

  it('rolling back a rollout that removed an App brings the App back, even after the agent confirmed the removal', async () => {
    const agent = await online('rename-1', { suite: 'rename' });
    const named = (app: string) => appSetYaml('renamed', 'rename', `    waves: [{ name: all, soak: 0s }]`).replace('    namespace: renamed', `    name: ${app}\n    namespace: renamed`);
    await apply(named('old-name'));
    const first = await start('renamed');
    const old = await desiredOf(agent, 'old-name');
    agent.applyAndReport(old, Health.HEALTHY);
    await eventually(async () => (await rollout(first.id)).phase === 'SUCCEEDED', { what: 'first SUCCEEDED' });

    // The rename removes every App of the AppSet: the deletion breaker wants force.
    expect((await gql(`mutation($y: String!) { applyAppSet(yaml: $y, force: true) { changed } }`, { y: named('new-name') })).errors).toBeUndefined();
    const renamed = await start('renamed');
    agent.applyAndReport(await desiredOf(agent, 'new-name'), Health.HEALTHY);
    const removal = await eventually(async () => agent.received.flatMap((m) => (m.message.case === 'removeApp' && m.message.value.appName === 'old-name' ? [m.message.value] : []))[0], {
      what: 'old-name removed',
    });
    agent.send({ case: 'ack', value: { appName: 'old-name', revision: '', generation: removal.generation, accepted: true, error: '' } });
    const appsOn = async () => (await gql<{ cluster: { apps: { name: string; revision: string | null }[] } }>(`{ cluster(name: "rename-1") { apps { name revision } } }`)).data!.cluster.apps;
    await eventually(async () => !(await appsOn()).some((a) => a.name === 'old-name'), { what: 'old-name forgotten' });

    expect((await gql(`mutation($id: ID!) { rollbackRollout(id: $id) { phase } }`, { id: renamed.id })).errors).toBeUndefined();
    const back = await eventually(async () => agent.desired().filter((d) => d.appName === 'old-name' && d.generation > old.generation)[0], { what: 'old-name released again' });
    expect(back.revision).toBe(old.revision);
    expect((await appsOn()).find((a) => a.name === 'old-name')?.revision).toBe(old.revision);
  });

  it('the default canary is a connected cluster of each region: an offline cluster waits in its region wave instead of holding up the canary', async () => {
    await register('canary-eu-1', { suite: 'canary', region: 'eu' });
    const connected = await online('canary-eu-2', { suite: 'canary', region: 'eu' });
    await apply(appSetYaml('canaried', 'canary'));

    const started = await start('canaried');
    expect(started.waves.map((w) => [w.name, w.clusters])).toEqual([
      ['canary', ['canary-eu-2']],
      ['eu', ['canary-eu-1']],
    ]);
    expect((await desiredOf(connected, 'canaried')).appName).toBe('canaried');
  });

  it('byLabel maxConcurrency 1 releases the canary wave one cluster at a time', async () => {
    const regions = ['ap', 'eu', 'us'];
    const fleet = new Map<string, FakeAgent>();
    for (const region of regions) fleet.set(`one-${region}`, await online(`one-${region}`, { suite: 'one', region }));
    await apply(appSetYaml('one-by-one', 'one', `    byLabel: { label: region, canary: {}, maxConcurrency: 1, soak: 0s }`));

    const started = await start('one-by-one');
    expect(started.waves.map((w) => [w.name, w.clusters, w.maxConcurrency])).toEqual([['canary', ['one-ap', 'one-eu', 'one-us'], 1]]);
    expect(started.targets.filter((t) => t.generation !== null).map((t) => t.cluster)).toEqual(['one-ap']);

    fleet.get('one-ap')!.applyAndReport(await desiredOf(fleet.get('one-ap')!, 'one-by-one'), Health.HEALTHY);
    const afterFirst = await eventually(
      async () => {
        const view = await rollout(started.id);
        return view.targets.some((t) => t.cluster === 'one-eu' && t.generation !== null) ? view : undefined;
      },
      { what: 'one-eu released' },
    );
    expect(afterFirst.targets.filter((t) => t.generation !== null).map((t) => t.cluster)).toEqual(['one-ap', 'one-eu']);
  });

  it('the implicit remaining wave does not inherit the approval gate of the last wave', async () => {
    const eu = await online('gate-eu', { suite: 'gate', region: 'eu' });
    const us = await online('gate-us', { suite: 'gate', region: 'us' });
    await apply(appSetYaml('gated', 'gate', `    waves: [{ name: eu, selector: { matchLabels: { region: eu } }, approval: true, soak: 0s }]`));

    const started = await start('gated');
    expect(started.waves.map((w) => [w.name, w.clusters, w.approval])).toEqual([
      ['eu', ['gate-eu'], true],
      ['remaining', ['gate-us'], false],
    ]);
    expect((await gql(`mutation($id: ID!) { approveWave(id: $id, wave: "eu") { id } }`, { id: started.id })).errors).toBeUndefined();
    eu.applyAndReport(await desiredOf(eu, 'gated'), Health.HEALTHY);
    // No second approval: the remaining wave starts once eu is done.
    us.applyAndReport(await desiredOf(us, 'gated'), Health.HEALTHY);
    await eventually(async () => (await rollout(started.id)).phase === 'SUCCEEDED', { what: 'SUCCEEDED' });
  });

  it('a rollout that skipped an offline cluster succeeds and names it in skippedClusters and its reason', async () => {
    await register('skip-dark', { suite: 'skip' });
    const lit = await online('skip-lit', { suite: 'skip' });
    await apply(appSetYaml('skipping', 'skip', `    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]\n    offlineClusters: skip`));

    const started = await start('skipping');
    lit.applyAndReport(await desiredOf(lit, 'skipping'), Health.HEALTHY);
    const done = await eventually(async () => {
      const view = await rollout(started.id);
      return view.phase === 'SUCCEEDED' ? view : undefined;
    }, { what: 'SUCCEEDED' });
    expect(done.skippedClusters).toEqual(['skip-dark']);
    expect(done.reason).toBe('Every wave is done; 1 cluster(s) skipped while offline did not get this revision: skip-dark.');
    expect(done.targets.map((t) => [t.cluster, t.state])).toEqual([
      ['skip-dark', 'SKIPPED'],
      ['skip-lit', 'HEALTHY'],
    ]);
  });

  it('a rollout without skipped clusters lists none', async () => {
    const agent = await online('clean-1', { suite: 'clean' });
    await apply(appSetYaml('clean', 'clean', `    waves: [{ name: all, soak: 0s }]`));
    const started = await start('clean');
    agent.applyAndReport(await desiredOf(agent, 'clean'), Health.HEALTHY);
    const done = await eventually(async () => {
      const view = await rollout(started.id);
      return view.phase === 'SUCCEEDED' ? view : undefined;
    }, { what: 'SUCCEEDED' });
    expect(done).toMatchObject({ skippedClusters: [], reason: 'Every wave is done.' });
  });

  it('a breached failure budget with onFailure: fail ends the rollout FAILED: later waves get nothing, and it can still be rolled back', async () => {
    const first = await online('fail-a', { suite: 'fail', tier: 'a' });
    await online('fail-b', { suite: 'fail', tier: 'b' });
    await apply(
      appSetYaml('failing', 'fail', `    waves:\n      - { name: first, selector: { matchLabels: { tier: a } }, soak: 0s }\n      - { name: second, soak: 0s }\n    onFailure: fail`),
    );

    const started = await start('failing');
    first.applyAndReport(await desiredOf(first, 'failing'), Health.DEGRADED);
    const failed = await eventually(async () => {
      const view = await rollout(started.id);
      return view.phase === 'FAILED' ? view : undefined;
    }, { what: 'FAILED' });
    expect(failed.reason).toBe('Failure budget of wave first breached.');
    expect(failed.events.map((e) => e.kind)).toContain('FAILED');
    expect(failed.targets.map((t) => [t.cluster, t.state])).toEqual([
      ['fail-a', 'FAILED'],
      ['fail-b', 'PENDING'],
    ]);

    const rolledBack = await gql<{ rollbackRollout: { phase: string } }>(`mutation($id: ID!) { rollbackRollout(id: $id) { phase } }`, { id: started.id });
    expect(rolledBack.errors).toBeUndefined();
    expect(rolledBack.data!.rollbackRollout.phase).toBe('ROLLED_BACK');
  });

  it('a wave names the offline clusters it waits for, and tells when its soak ends only once none of its clusters is pending or progressing', async () => {
    const agent = await online('gate-on', { suite: 'gate' });
    await register('gate-off', { suite: 'gate' });
    await apply(appSetYaml('gated', 'gate', `    waves: [{ name: all, soak: 1h, maxConcurrency: 100% }]\n    offlineClusters: wait`));
    const started = await start('gated');
    const waveOf = async () =>
      (await gql<{ rollout: { waves: { offlineClusters: string[]; offlineClusterCount: number; soakEndsAt: string | null }[] } }>(
        `query($id: ID!) { rollout(id: $id) { waves { offlineClusters offlineClusterCount soakEndsAt } } }`,
        { id: started.id },
      )).data!.rollout.waves[0]!;
    agent.applyAndReport(await desiredOf(agent, 'gated'), Health.HEALTHY);
    await eventually(async () => (await rollout(started.id)).targets.find((t) => t.cluster === 'gate-on')?.state === 'HEALTHY', { what: 'gate-on healthy' });
    expect(await waveOf()).toEqual({ offlineClusters: ['gate-off'], offlineClusterCount: 1, soakEndsAt: null });

    // The soak's end is the last healthy target's healthySince plus the soak: read it back from the hub's own report time.
    const single = await online('solo-on', { suite: 'solo' });
    await apply(appSetYaml('solo', 'solo', `    waves: [{ name: all, soak: 1h }]`));
    const solo = await start('solo');
    const before = Date.now();
    single.applyAndReport(await desiredOf(single, 'solo'), Health.HEALTHY);
    const wave = await eventually(async () => {
      const view = (await gql<{ rollout: { waves: { offlineClusters: string[]; soakEndsAt: string | null }[] } }>(`query($id: ID!) { rollout(id: $id) { waves { offlineClusters soakEndsAt } } }`, { id: solo.id })).data!.rollout.waves[0]!;
      return view.soakEndsAt ? view : undefined;
    }, { what: 'the soak end known' });
    const after = Date.now();
    expect(wave.offlineClusters).toEqual([]);
    const ends = new Date(wave.soakEndsAt!).getTime();
    expect(ends).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
    expect(ends).toBeLessThanOrEqual(after + 3_600_000 + 1_000);
  });
});
