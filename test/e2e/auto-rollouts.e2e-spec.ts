import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

const CLUSTERS = [
  { name: 'us-1', region: 'us' },
  { name: 'eu-1', region: 'eu' },
  { name: 'ap-1', region: 'ap' },
];

/** The `shop` AppSet with trigger auto, rolled out us → eu → ap and rolled back on failure. Apps named `bad*` fail in eu. */
const shop = (app: string, version: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: shop }
spec:
  generators:
    - clusters: {}
  template:
    name: ${app}
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: shop }
        data: { region: "{{ cluster.labels.region }}", version: "${version}" }
  strategy:
    trigger: auto
    byLabel: { label: region, order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m }
    onFailure: rollback
`;

interface ShopView {
  revision: number;
  heldBackRevision: number | null;
  heldBackReason: string | null;
  rollouts: { appSetRevision: number; phase: string; trigger: string; startedBy: string; waves: { name: string; counts: { total: number; pending: number } }[] }[];
}

describe('rollouts that start by themselves, over three agents', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let api: ReturnType<typeof graphqlClient>;

  // force: renaming the App removes every App of the AppSet, which the deletion breaker refuses otherwise.
  const apply = async (yaml: string) => {
    const { applyAppSet } = await api.must<{ applyAppSet: { changed: boolean; issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y, force: true) { changed issues { code path message } } }`, {
      y: yaml,
    });
    expect(applyAppSet).toEqual({ changed: true, issues: [] });
  };
  const view = async () =>
    (
      await api.must<{ appSet: ShopView }>(
        `{ appSet(name: "shop") { revision heldBackRevision heldBackReason rollouts { appSetRevision phase trigger startedBy waves { name counts { total pending } } } } }`,
      )
    ).appSet;
  /** The newest rollout once it is of `revision` and in `phase`. */
  const latestIs = (revision: number, phase: string) =>
    eventually(
      async () => {
        const seen = await view();
        const latest = seen.rollouts[0];
        return latest?.appSetRevision === revision && latest.phase === phase ? { seen, latest } : undefined;
      },
      { what: `the rollout of revision ${revision} ${phase}`, timeoutMs: 45_000 },
    );
  /** What every cluster runs: its released Apps with their health, by cluster. */
  const released = async () =>
    (await api.must<{ clusters: { name: string; apps: { name: string; revision: string | null; health: string; upToDate: boolean }[] }[] }>(`{ clusters { name apps { name revision health upToDate } } }`)).clusters
      .map((c) => [c.name, c.apps.filter((a) => a.revision !== null).map((a) => `${a.name} ${a.health}${a.upToDate ? '' : ' (behind)'}`)])
      .sort();
  const everywhere = (app: string) => JSON.stringify(CLUSTERS.map((c) => [c.name, [`${app} HEALTHY`]]).sort());

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
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.every((c) => c.connected), { what: 'three agents connected' });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('a new revision rolls out by itself; a failing one rolls back and is held back; its revert has nothing left to release; the next one rolls out', async () => {
    // When the AppSet is applied, and nobody starts a rollout
    await apply(shop('shop', '1'));
    // Then the hub rolls it out to every cluster, wave by wave
    const first = await latestIs(1, 'SUCCEEDED');
    expect(first.latest).toMatchObject({ trigger: 'AUTO', startedBy: 'hub' });
    await eventually(async () => JSON.stringify(await released()) === everywhere('shop'), { what: 'shop healthy everywhere' });

    // When a change that fails in eu is applied
    await apply(shop('bad-shop', '2'));
    // Then its rollout rolls back by itself, ap never gets it, every cluster runs shop again, and the AppSet holds revision 2 back
    const bad = await latestIs(2, 'ROLLED_BACK');
    expect(bad.latest.trigger).toBe('AUTO');
    expect(bad.latest.waves.find((w) => w.name === 'ap')!.counts).toMatchObject({ total: 2, pending: 2 });
    expect(bad.seen.heldBackRevision).toBe(2);
    expect(bad.seen.heldBackReason).toContain('was rolled back');
    await eventually(async () => JSON.stringify(await released()) === everywhere('shop'), { what: 'shop back everywhere' });

    // When the change is reverted (the first document, applied again as revision 3)
    await apply(shop('shop', '1'));
    // Then the revert starts a rollout by itself, which finds nothing left to release (the rollback
    // already brought shop back), and nothing is held back any more
    const reverted = await latestIs(3, 'NOTHING_TO_DO');
    expect(reverted.latest.trigger).toBe('AUTO');
    expect(reverted.seen).toMatchObject({ revision: 3, heldBackRevision: null });
    expect(JSON.stringify(await released())).toBe(everywhere('shop'));

    // When a new version is applied
    await apply(shop('shop', '4'));
    // Then it rolls out by itself to every cluster
    await latestIs(4, 'SUCCEEDED');
    await eventually(async () => JSON.stringify(await released()) === everywhere('shop'), { what: 'version 4 healthy everywhere' });
  });
});
