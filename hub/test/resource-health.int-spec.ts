import { Health, LIMITS, SyncStatus, type DesiredApp } from '@flotilla/proto';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { FakeAgent } from './support/fake-agent';
import { eventually } from './support/graphql-client';
import { useReleasedApp } from './support/released-app';

const appSetYaml = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: shop }
spec:
  generators:
    - clusters: { selector: { matchLabels: { env: drift } } }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web-config }
        data: { color: blue }
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

interface ResourceStatus {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  health: string;
  message: string;
  drifted: boolean;
  driftedFields: string[];
}

interface AppResources {
  name: string;
  drifted: boolean;
  resourcesTruncated: boolean;
  resources: ResourceStatus[];
}

const APP_RESOURCES = `query($cluster: String!) {
  cluster(name: $cluster) {
    apps { name drifted resourcesTruncated resources { apiVersion kind namespace name health message drifted driftedFields } }
  }
}`;

describe('resource health and drifted fields, from an agent report over real gRPC to GraphQL', () => {
  const { gql, releasedTo, databaseUrl } = useReleasedApp({ appSetYaml, appSet: 'shop', label: 'drift' });

  function report(agent: FakeAgent, desired: DesiredApp, health: Health, resources: Omit<ResourceStatus, 'health'>[], healths: Health[]): void {
    agent.send({ case: 'ack', value: { appName: desired.appName, revision: desired.revision, generation: desired.generation, accepted: true, error: '' } });
    agent.send({
      case: 'report',
      value: {
        appName: desired.appName,
        revision: desired.revision,
        generation: desired.generation,
        health,
        syncStatus: SyncStatus.OUT_OF_SYNC,
        message: '',
        resources: resources.map((resource, index) => ({ ...resource, health: healths[index] ?? Health.HEALTHY })),
        resourcesTruncated: false,
        observedAtUnixMs: BigInt(Date.now()),
      },
    });
  }

  async function appOn(cluster: string, until: (app: AppResources) => boolean): Promise<AppResources> {
    return eventually(
      async () => {
        const res = await gql<{ cluster: { apps: AppResources[] } }>(APP_RESOURCES, { cluster });
        const app = res.data?.cluster.apps[0];
        return app !== undefined && until(app) ? app : undefined;
      },
      { what: `resources of shop on ${cluster}` },
    );
  }

  it('an App lists the resources the agent reported, with the drifted field paths, and says it drifted', async () => {
    const { agent, desired } = await releasedTo('drift-1');
    report(
      agent,
      desired,
      Health.PROGRESSING,
      [
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-config', message: 'exists', drifted: true, driftedFields: ['data.color'] },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'shop',
          name: 'web',
          message: '2 of 3 updated replicas are available',
          drifted: true,
          driftedFields: ['spec.replicas', 'spec.template.spec.containers[name=web].image'],
        },
      ],
      [Health.HEALTHY, Health.PROGRESSING],
    );

    const app = await appOn('drift-1', (a) => a.resources.length > 0);
    expect(app).toEqual({
      name: 'shop',
      drifted: true,
      resourcesTruncated: false,
      resources: [
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-config', health: 'HEALTHY', message: 'exists', drifted: true, driftedFields: ['data.color'] },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'shop',
          name: 'web',
          health: 'PROGRESSING',
          message: '2 of 3 updated replicas are available',
          drifted: true,
          driftedFields: ['spec.replicas', 'spec.template.spec.containers[name=web].image'],
        },
      ],
    });
  });

  it('an App whose resources match their revision is not drifted, and an App not reported yet has no resources', async () => {
    const { agent, desired } = await releasedTo('drift-2');
    const before = await gql<{ cluster: { apps: AppResources[] } }>(APP_RESOURCES, { cluster: 'drift-2' });
    expect(before.data!.cluster.apps).toEqual([{ name: 'shop', drifted: false, resourcesTruncated: false, resources: [] }]);

    report(agent, desired, Health.HEALTHY, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-config', message: 'exists', drifted: false, driftedFields: [] }], [Health.HEALTHY]);
    const app = await appOn('drift-2', (a) => a.resources.length > 0);
    expect(app.drifted).toBe(false);
    expect(app.resources[0]).toMatchObject({ name: 'web-config', drifted: false, driftedFields: [] });
  });

  it('the hub bounds the drifted field paths an agent sends, however many and however long', async () => {
    const { agent, desired } = await releasedTo('drift-3');
    const many = Array.from({ length: LIMITS.maxDriftedFields + 8 }, (_, i) => `data.key${String(i).padStart(2, '0')}`);
    report(
      agent,
      desired,
      Health.HEALTHY,
      [
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'many', message: '', drifted: true, driftedFields: many },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'long', message: '', drifted: true, driftedFields: [`data.${'k'.repeat(1000)}`] },
      ],
      [Health.HEALTHY, Health.HEALTHY],
    );
    const app = await appOn('drift-3', (a) => a.resources.length === 2);
    const byName = new Map(app.resources.map((r) => [r.name, r]));
    expect(byName.get('many')?.driftedFields).toEqual(many.slice(0, LIMITS.maxDriftedFields));
    const [long] = byName.get('long')?.driftedFields ?? [];
    expect(long?.length).toBe(256);
    expect(long).toMatch(/…\[truncated\]$/);
  });

  it('resources stored before drifted fields existed read back with an empty list', async () => {
    const { agent, desired } = await releasedTo('drift-4');
    report(agent, desired, Health.HEALTHY, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-config', message: 'exists', drifted: true, driftedFields: ['data.color'] }], [Health.HEALTHY]);
    await appOn('drift-4', (a) => a.resources.length > 0);

    // Rewrite the stored row the way an older hub wrote it: resources without the driftedFields key.
    const pg = new Client({ connectionString: databaseUrl() });
    await pg.connect();
    try {
      const updated = await pg.query(
        `UPDATE app_statuses SET resources = (SELECT jsonb_agg(r - 'driftedFields') FROM jsonb_array_elements(resources) r)
         WHERE cluster_id = (SELECT id FROM clusters WHERE name = 'drift-4')`,
      );
      expect(updated.rowCount).toBe(1);
    } finally {
      await pg.end();
    }
    const res = await gql<{ cluster: { apps: AppResources[] } }>(APP_RESOURCES, { cluster: 'drift-4' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.cluster.apps[0]).toMatchObject({ drifted: true, resources: [{ name: 'web-config', drifted: true, driftedFields: [] }] });
  });
});
