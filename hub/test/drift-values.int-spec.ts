import { Health, LIMITS, SyncStatus, type DesiredApp } from '@flotilla/proto';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { FakeAgent } from './support/fake-agent';
import { eventually } from './support/graphql-client';
import { useReleasedApp } from './support/released-app';

// The values of drifted fields, from an agent's report over real gRPC, stored with the App's status and read through GraphQL.

const appSetYaml = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: shop }
spec:
  generators:
    - clusters: { selector: { matchLabels: { env: drift-values } } }
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

interface DriftedField {
  path: string;
  expected: string | null;
  live: string | null;
  redacted: boolean;
  valuesKnown: boolean;
}
interface Resource {
  kind: string;
  name: string;
  drifted: boolean;
  driftedFields: string[];
  drift: DriftedField[];
}
interface SentValue {
  path: string;
  expected?: string;
  live?: string;
  redacted: boolean;
}
interface SentResource {
  apiVersion: string;
  kind: string;
  name: string;
  driftedFields: string[];
  driftedValues?: SentValue[];
}

const APP_DRIFT = `query($cluster: String!) {
  cluster(name: $cluster) { apps { name resources { kind name drifted driftedFields drift { path expected live redacted valuesKnown } } } }
}`;

describe('drifted field values, from an agent report to GraphQL', () => {
  const { gql, releasedTo, databaseUrl } = useReleasedApp({ appSetYaml, appSet: 'shop', label: 'drift-values' });

  function report(agent: FakeAgent, desired: DesiredApp, resources: SentResource[]): void {
    agent.send({ case: 'ack', value: { appName: desired.appName, revision: desired.revision, generation: desired.generation, accepted: true, error: '' } });
    agent.send({
      case: 'report',
      value: {
        appName: desired.appName,
        revision: desired.revision,
        generation: desired.generation,
        health: Health.HEALTHY,
        syncStatus: SyncStatus.OUT_OF_SYNC,
        message: '',
        resources: resources.map((resource) => ({ namespace: 'shop', health: Health.HEALTHY, message: '', drifted: true, ...resource })),
        resourcesTruncated: false,
        observedAtUnixMs: BigInt(Date.now()),
      },
    });
  }

  async function resourcesOn(cluster: string, count: number): Promise<{ resources: Resource[]; text: string }> {
    return eventually(
      async () => {
        const res = await gql<{ cluster: { apps: { resources: Resource[] }[] } }>(APP_DRIFT, { cluster });
        const resources = res.data?.cluster.apps[0]?.resources;
        return resources !== undefined && resources.length === count ? { resources, text: JSON.stringify(res) } : undefined;
      },
      { what: `resources of shop on ${cluster}` },
    );
  }

  it('lists each drifted field with its expected and live values, null for a side where the field is absent', async () => {
    const { agent, desired } = await releasedTo('values-1');
    report(agent, desired, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        driftedFields: ['metadata.labels.tier', 'spec.replicas'],
        driftedValues: [
          { path: 'metadata.labels.tier', expected: '"gold"', redacted: false },
          { path: 'spec.replicas', expected: '2', live: '5', redacted: false },
        ],
      },
    ]);
    const { resources } = await resourcesOn('values-1', 1);
    expect(resources[0]).toEqual({
      kind: 'Deployment',
      name: 'web',
      drifted: true,
      driftedFields: ['metadata.labels.tier', 'spec.replicas'],
      drift: [
        { path: 'metadata.labels.tier', expected: '"gold"', live: null, redacted: false, valuesKnown: true },
        { path: 'spec.replicas', expected: '2', live: '5', redacted: false, valuesKnown: true },
      ],
    });
  });

  it('reads one App of a cluster by name, the same as in its list, and null for a name it has not', async () => {
    const { resources } = await resourcesOn('values-1', 1);
    const fields = `name resources { kind name drifted driftedFields drift { path expected live redacted valuesKnown } }`;
    const listed = await gql<{ cluster: { apps: { name: string }[] } }>(`query($c: String!) { cluster(name: $c) { apps { ${fields} } } }`, { c: 'values-1' });
    const name = listed.data!.cluster.apps[0]!.name;
    const one = await gql<{ cluster: { app: { name: string; resources: Resource[] } | null; none: unknown } }>(
      `query($c: String!, $a: String!) { cluster(name: $c) { app(name: $a) { ${fields} } none: app(name: "no-such-app") { name } } }`,
      { c: 'values-1', a: name },
    );
    expect(one.errors).toBeUndefined();
    expect(one.data!.cluster.app).toEqual(listed.data!.cluster.apps[0]);
    expect(one.data!.cluster.app!.resources).toEqual(resources);
    expect(one.data!.cluster.none).toBeNull();
  });

  it('lists the paths of an older agent, which sends no values, as values unknown', async () => {
    const { agent, desired } = await releasedTo('values-2');
    report(agent, desired, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-config', driftedFields: ['data.color'] }]);
    const { resources } = await resourcesOn('values-2', 1);
    expect(resources[0]?.drift).toEqual([{ path: 'data.color', expected: null, live: null, redacted: false, valuesKnown: false }]);
  });

  it('never stores or returns a value of a Secret, nor a value the agent marked redacted, whatever the agent sent', async () => {
    const { agent, desired } = await releasedTo('values-3');
    report(agent, desired, [
      { apiVersion: 'v1', kind: 'Secret', name: 'db', driftedFields: ['data.password'], driftedValues: [{ path: 'data.password', expected: '"aHVudGVyMg=="', live: '"c2VjcmV0"', redacted: false }] },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'app-config', driftedFields: ['data.url'], driftedValues: [{ path: 'data.url', expected: '"postgres://app:hunter2@db"', live: '"x"', redacted: true }] },
    ]);
    const { resources, text } = await resourcesOn('values-3', 2);
    const driftOf = (kind: string) => resources.find((r) => r.kind === kind)?.drift;
    expect(driftOf('ConfigMap')).toEqual([{ path: 'data.url', expected: null, live: null, redacted: true, valuesKnown: true }]);
    expect(driftOf('Secret')).toEqual([{ path: 'data.password', expected: null, live: null, redacted: true, valuesKnown: true }]);
    for (const secret of ['aHVudGVyMg==', 'c2VjcmV0', 'hunter2']) expect(text).not.toContain(secret);
    const pg = new Client({ connectionString: databaseUrl() });
    await pg.connect();
    try {
      const stored = await pg.query(`SELECT resources::text AS resources FROM app_statuses WHERE cluster_id = (SELECT id FROM clusters WHERE name = 'values-3')`);
      for (const secret of ['aHVudGVyMg==', 'c2VjcmV0', 'hunter2']) expect(String(stored.rows[0]?.resources)).not.toContain(secret);
    } finally {
      await pg.end();
    }
  });

  it('bounds what a hostile agent sends: values for paths it did not list are dropped, long values cut, one value per path', async () => {
    const { agent, desired } = await releasedTo('values-4');
    const huge = `"${'x'.repeat(LIMITS.maxDriftValueChars * 4)}"`;
    report(agent, desired, [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'web-config',
        driftedFields: ['data.color'],
        driftedValues: [
          { path: 'data.color', expected: huge, live: '"red"', redacted: false },
          { path: 'data.color', expected: '"second"', live: '"second"', redacted: false },
          { path: 'data.unlisted', expected: '"a"', live: '"b"', redacted: false },
        ],
      },
    ]);
    const { resources } = await resourcesOn('values-4', 1);
    const [color, ...rest] = resources[0]?.drift ?? [];
    expect(rest).toEqual([]);
    expect(color?.expected).toHaveLength(LIMITS.maxDriftValueChars);
    expect(color?.expected?.endsWith('…[truncated]')).toBe(true);
    expect(color?.live).toBe('"red"');
  });

  it('reads rows stored before values existed as values unknown', async () => {
    const { agent, desired } = await releasedTo('values-5');
    report(agent, desired, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'web-config', driftedFields: ['data.color'], driftedValues: [{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false }] }]);
    await resourcesOn('values-5', 1);
    const pg = new Client({ connectionString: databaseUrl() });
    await pg.connect();
    try {
      const updated = await pg.query(
        `UPDATE app_statuses SET resources = (SELECT jsonb_agg(r - 'driftedValues') FROM jsonb_array_elements(resources) r)
         WHERE cluster_id = (SELECT id FROM clusters WHERE name = 'values-5')`,
      );
      expect(updated.rowCount).toBe(1);
    } finally {
      await pg.end();
    }
    const { resources } = await resourcesOn('values-5', 1);
    expect(resources[0]?.drift).toEqual([{ path: 'data.color', expected: null, live: null, redacted: false, valuesKnown: false }]);
  });
});
