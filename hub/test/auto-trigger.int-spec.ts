import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppSetsService } from '../src/app-sets/app-sets.service';
import { loadHubConfig } from '../src/config/hub-config';
import { parseAppSet } from '../src/core/app-set/parse-app-set';
import { startHub, type RunningHub } from '../src/hub';
import { AutoTriggerHook } from '../src/rollouts/auto-trigger-hook';
import { AutoTriggerService } from '../src/rollouts/auto-trigger.service';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { configMapAppSetYaml } from './support/app-set-yaml';
import { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** An AppSet over the clusters labelled `suite: <suite>`; `value` makes a new revision; `strategy` is YAML under spec.strategy. */
const appSetYaml = (name: string, suite: string, value: string, strategy = '    trigger: auto') => configMapAppSetYaml(name, { suite }, { data: `{ value: "${value}" }`, strategy });

interface RolloutView {
  id: string;
  phase: string;
  appSetRevision: number;
  startedBy: string;
  startReason: string;
  trigger: string;
  reason: string;
  events: { kind: string; actor: string; message: string }[];
}
interface AppSetView {
  revision: number;
  trigger: string;
  heldBackRevision: number | null;
  heldBackReason: string | null;
  rollouts: RolloutView[];
}
const APP_SET_FIELDS = 'revision trigger heldBackRevision heldBackReason rollouts { id phase appSetRevision startedBy startReason trigger reason events { kind actor message } }';

describe('spec.strategy.trigger: auto', () => {
  let db: TestDatabase;
  const hubs: RunningHub[] = [];
  let gql: ReturnType<typeof graphqlClient>;

  const register = async (name: string, suite: string) => {
    const res = await gql(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: name, l: { suite, region: 'eu' } });
    expect(res.errors).toBeUndefined();
  };
  const apply = async (yaml: string) => {
    const res = await gql<{ applyAppSet: { changed: boolean; issues: { code: string; message: string }[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code message } } }`, { y: yaml });
    expect(res.errors).toBeUndefined();
    expect(res.data!.applyAppSet.issues).toEqual([]);
    return res.data!.applyAppSet;
  };
  /** The AppSet with its rollouts, newest first. */
  const appSet = async (name: string): Promise<AppSetView> => {
    const res = await gql<{ appSet: AppSetView }>(`query($n: String!) { appSet(name: $n) { ${APP_SET_FIELDS} } }`, { n: name });
    expect(res.errors).toBeUndefined();
    return res.data!.appSet;
  };
  const mutate = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await gql<T>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  /** Simulates hubs that stop between committing a revision and starting its rollout: their hooks do nothing until `restore`. */
  const loseStarts = () => {
    for (const hub of hubs) hub.app.get(AutoTriggerHook).listen(async () => undefined);
    return () => {
      for (const hub of hubs) hub.app.get(AutoTriggerService).onModuleInit();
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      hubs.push(
        await startHub(
          loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_REPLICA_ID: `hub-${i}`, FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
        ),
      );
    }
    gql = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    await db?.drop();
  });

  it('a new revision starts a rollout by itself, as the hub, naming the revision; the next supersedes it; an unchanged apply starts nothing', async () => {
    await register('auto-1', 'auto');
    await register('auto-2', 'auto');
    expect((await apply(appSetYaml('web', 'auto', 'one'))).changed).toBe(true);
    const first = await appSet('web');
    expect(first).toMatchObject({ revision: 1, trigger: 'AUTO', heldBackRevision: null, heldBackReason: null });
    expect(first.rollouts).toEqual([
      expect.objectContaining({ appSetRevision: 1, phase: 'PROGRESSING', startedBy: 'hub', trigger: 'AUTO', startReason: 'trigger auto: revision 1 was staged.' }),
    ]);
    expect(first.rollouts[0]!.events[0]).toMatchObject({ kind: 'STARTED', actor: 'hub' });

    await apply(appSetYaml('web', 'auto', 'two'));
    const second = await appSet('web');
    expect(second.rollouts.map((r) => [r.appSetRevision, r.phase, r.trigger])).toEqual([
      [2, 'PROGRESSING', 'AUTO'],
      [1, 'SUPERSEDED', 'AUTO'],
    ]);

    expect((await apply(appSetYaml('web', 'auto', 'two'))).changed).toBe(false);
    expect((await appSet('web')).rollouts).toHaveLength(2);
  });

  it('a revision synced from Git names its commit in the rollout it starts', async () => {
    await register('git-1', 'git');
    const parsed = parseAppSet(appSetYaml('from-git', 'git', 'one'));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const sha = '3f2a9c1d0b7e6a5f4c3b2a190817263544536271';
    const commit = { sha, author: 'Alice <alice@example.com>', subject: 'Raise replicas', time: new Date('2026-12-06T07:00:00Z') };
    const { applied } = await hubs[0]!.app.get(AppSetsService).applyDocuments([parsed.value], { author: 'git:platform', message: 'sync', force: false, commit });
    expect(applied).toBe(true);
    expect((await appSet('from-git')).rollouts.map((r) => [r.trigger, r.startedBy, r.startReason])).toEqual([
      ['AUTO', 'hub', `trigger auto: revision 1 was staged from commit ${sha} "Raise replicas" by Alice <alice@example.com> at 2026-12-06T07:00:00.000Z.`],
    ]);
  });

  it('with trigger manual, or no trigger at all, a new revision starts nothing', async () => {
    await register('manual-1', 'manual');
    await apply(appSetYaml('explicit', 'manual', 'one', '    trigger: manual'));
    await apply(appSetYaml('implicit', 'manual', 'one', '    onFailure: pause'));
    for (const name of ['explicit', 'implicit']) expect(await appSet(name)).toMatchObject({ trigger: 'MANUAL', rollouts: [] });
  });

  it('two hub replicas start one rollout for a revision whose start was lost, however often both try', async () => {
    await register('twin-1', 'twin');
    const restore = loseStarts();
    try {
      await apply(appSetYaml('twin', 'twin', 'one'));
      expect((await appSet('twin')).rollouts).toEqual([]);
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const { rows } = await pg.query<{ id: string }>(`SELECT id FROM app_sets WHERE name = 'twin'`);
      await pg.end();
      const triggers = hubs.map((h) => h.app.get(AutoTriggerService));
      await Promise.all(triggers.flatMap((t) => [t.sweep(), t.staged(rows[0]!.id, 1), t.sweep(), t.staged(rows[0]!.id, 1)]));
    } finally {
      restore();
    }
    expect((await appSet('twin')).rollouts.map((r) => [r.appSetRevision, r.trigger, r.startedBy])).toEqual([[1, 'AUTO', 'hub']]);
  });

  it('a rolled back revision is held back: the AppSet says which and why, and the auto trigger does not release it again', async () => {
    await register('held-1', 'held');
    await apply(appSetYaml('held', 'held', 'bad'));
    const [bad] = (await appSet('held')).rollouts;
    await mutate(`mutation($id: ID!) { rollbackRollout(id: $id, reason: "probes fail") { phase } }`, { id: bad!.id });

    const held = await appSet('held');
    expect(held.heldBackRevision).toBe(1);
    expect(held.heldBackReason).toBe(
      `Rollout ${bad!.id} of revision 1 was rolled back: probes fail. The auto trigger does not release it again; a new revision, or startRollout by hand, does.`,
    );
    for (const hub of hubs) expect(await hub.app.get(AutoTriggerService).sweep()).toBe(0);
    expect((await appSet('held')).rollouts.map((r) => r.phase)).toEqual(['ROLLED_BACK']);
  });

  it('an aborted revision is held back too, until a new revision arrives and rolls out by itself', async () => {
    await register('abort-1', 'abort');
    await apply(appSetYaml('aborted', 'abort', 'one'));
    const [first] = (await appSet('aborted')).rollouts;
    await mutate(`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id: first!.id });
    expect((await appSet('aborted')).heldBackRevision).toBe(1);

    await apply(appSetYaml('aborted', 'abort', 'two'));
    const after = await appSet('aborted');
    expect(after).toMatchObject({ revision: 2, heldBackRevision: null, heldBackReason: null });
    expect(after.rollouts.map((r) => [r.appSetRevision, r.phase])).toEqual([
      [2, 'PROGRESSING'],
      [1, 'ABORTED'],
    ]);
  });

  it('startRollout by hand after a rollback releases the held-back revision again, says so, and clears the hold', async () => {
    await register('again-1', 'again');
    await apply(appSetYaml('again', 'again', 'one'));
    const [first] = (await appSet('again')).rollouts;
    await mutate(`mutation($id: ID!) { rollbackRollout(id: $id) { phase } }`, { id: first!.id });

    const { startRollout } = await mutate<{ startRollout: RolloutView }>(
      `mutation { startRollout(appSet: "again", reason: "fixed the probe config on the clusters") { id phase appSetRevision trigger startedBy events { kind message } } }`,
      {},
    );
    expect(startRollout).toMatchObject({ phase: 'PROGRESSING', appSetRevision: 1, trigger: 'MANUAL' });
    expect(startRollout.events[0]!.message).toContain(`Revision 1 was held back (Rollout ${first!.id} of revision 1 was rolled back: Rolled back by an operator); started by hand, it is released again.`);
    expect(await appSet('again')).toMatchObject({ heldBackRevision: null, heldBackReason: null });
  });

  it('a revision whose strategy cannot be planned gives a FAILED rollout that says why, and holds the revision back', async () => {
    await register('broken-1', 'broken');
    await apply(appSetYaml('broken', 'broken', 'one', '    trigger: auto\n    waves: [{ name: same }, { name: same }]'));
    const view = await appSet('broken');
    expect(view.rollouts).toEqual([expect.objectContaining({ phase: 'FAILED', trigger: 'AUTO', appSetRevision: 1 })]);
    expect(view.rollouts[0]!.reason).toBe('The rollout strategy is invalid: spec.strategy.waves[1]: Wave "same" appears twice.');
    expect(view.heldBackRevision).toBe(1);
    expect(view.heldBackReason).toContain('failed: The rollout strategy is invalid');
  });
});
