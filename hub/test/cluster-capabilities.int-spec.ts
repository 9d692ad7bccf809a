import { CAPABILITY_LIMITS, ConnectRequestSchema, PROTOCOL_VERSION, create, toBinary } from '@flotilla/proto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCapabilitiesService } from '../src/clusters/cluster-capabilities.service';
import { ClustersService } from '../src/clusters/clusters.service';
import type { RunningHub } from '../src/hub';
import { registerClusters } from './support/app-set-client';
import { FakeAgent } from './support/fake-agent';
import { eventually } from './support/graphql-client';
import type { TestNatsServer } from './support/nats-server';
import { startTestHubOver, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

const CLUSTER = 'caps-1';

interface Reported {
  kubernetesVersion: string;
  apiVersions: string[];
  discoveryError?: string;
}

interface CapabilitiesView {
  connected: boolean;
  kubernetesVersion: string | null;
  apiVersions: string[] | null;
  capabilitiesProblem: string | null;
  capabilitiesReportedAt: string | null;
}

/** One agent as the hub sees it over one transport: it says Hello (again, on a new connection) with capabilities. */
interface AgentSide {
  hello(token: string, capabilities: Reported | undefined): Promise<void>;
  close(): Promise<void>;
}

function grpcSide(hub: () => RunningHub): AgentSide {
  let credential: string | undefined;
  const agents: FakeAgent[] = [];
  return {
    async hello(token, capabilities) {
      const agent = new FakeAgent(hub(), CLUSTER, credential ?? token);
      agents.push(agent);
      agent.connect([], PROTOCOL_VERSION, new Uint8Array(), capabilities);
      await eventually(async () => agent.welcomed() || agent.refusal() !== undefined, { what: `the Welcome of ${CLUSTER}` });
      expect(agent.refusal()).toBeUndefined();
      credential ??= agent.welcomeCredential();
    },
    async close() {
      for (const agent of agents) agent.close();
    },
  };
}

function natsSide(client: () => NatsConnection): AgentSide {
  let hellos = 0;
  return {
    async hello(_token, capabilities) {
      const kv = await new Kvm(jetstream(client())).open('flotilla-desired');
      const before = (await kv.get(`${CLUSTER}._welcome`))?.revision ?? 0;
      hellos++;
      const message = create(ConnectRequestSchema, {
        message: { case: 'hello', value: { protocolVersion: PROTOCOL_VERSION, clusterName: CLUSTER, agentVersion: `nats-${hellos}`, inventory: { apps: [] }, capabilities } },
      });
      await jetstream(client()).publish(`reports.${CLUSTER}`, toBinary(ConnectRequestSchema, message));
      await eventually(async () => ((await kv.get(`${CLUSTER}._welcome`))?.revision ?? 0) > before, { what: `the Welcome of ${CLUSTER} in KV` });
    },
    async close() {},
  };
}

/**
 * Each agent reports its cluster's Kubernetes version and served API resources in Hello; the hub
 * checks them against CAPABILITY_LIMITS, stores them per cluster and shows them in GraphQL. One hub
 * per transport on real PostgreSQL (and a real nats-server for NATS).
 */
describe.each(['grpc', 'nats'] as const)('cluster capabilities reported over %s', (transport) => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: Gql;
  let nats: TestNatsServer | undefined;
  let natsClient: NatsConnection | undefined;
  let token = '';
  const side = transport === 'grpc' ? grpcSide(() => hub) : natsSide(() => natsClient!);

  const view = async (): Promise<CapabilitiesView> => {
    const res = await gql<{ cluster: CapabilitiesView }>(`{ cluster(name: "${CLUSTER}") { connected kubernetesVersion apiVersions capabilitiesProblem capabilitiesReportedAt } }`);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.cluster;
  };
  const service = () => hub.app.get(ClusterCapabilitiesService);

  beforeAll(async () => {
    ({ db, hub, gql, nats, natsClient } = await startTestHubOver(transport));
    token = (await registerClusters(gql, [CLUSTER])).get(CLUSTER)!;
  });

  afterAll(async () => {
    await side.close();
    await hub?.stop();
    await natsClient?.close();
    await nats?.stop();
    await db?.drop();
  });

  it('shows no capabilities before the agent reported any, and none after a Hello without them', async () => {
    expect(await view()).toMatchObject({ kubernetesVersion: null, apiVersions: null, capabilitiesProblem: null, capabilitiesReportedAt: null });
    await side.hello(token, undefined);
    expect(await view()).toMatchObject({ kubernetesVersion: null, apiVersions: null, capabilitiesProblem: null, capabilitiesReportedAt: null });
    expect(await service().capabilities(CLUSTER)).toBeUndefined();
  });

  it('stores the reported version and API versions, sorted and without duplicates, and serves them to the renderer', async () => {
    await side.hello(token, { kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1/Deployment', 'v1', 'apps/v1', 'v1/ConfigMap', 'v1'] });
    const shown = await eventually(async () => {
      const v = await view();
      return v.kubernetesVersion !== null && v;
    }, { what: 'the capabilities in GraphQL' });
    expect(shown).toMatchObject({ kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1', 'v1/ConfigMap'], capabilitiesProblem: null });
    expect(shown.capabilitiesReportedAt).not.toBeNull();
    expect(await service().capabilities(CLUSTER)).toEqual({ kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1', 'v1/ConfigMap'] });
    expect(await service().all()).toEqual(new Map([[CLUSTER, { kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1', 'v1/ConfigMap'] }]]));
  });

  it.each([
    {
      what: 'more API versions than the cap',
      reported: { kubernetesVersion: 'v1.36.0', apiVersions: Array.from({ length: CAPABILITY_LIMITS.maxApiVersions + 1 }, (_, i) => `g${i}.example.com/v1`) },
      problem: `${CAPABILITY_LIMITS.maxApiVersions + 1} API versions exceed the cap of ${CAPABILITY_LIMITS.maxApiVersions}.`,
    },
    {
      what: 'an API version longer than the cap',
      reported: { kubernetesVersion: 'v1.36.0', apiVersions: [`${'a'.repeat(CAPABILITY_LIMITS.maxApiVersionChars)}/v1`] },
      problem: `An API version of ${CAPABILITY_LIMITS.maxApiVersionChars + 3} characters exceeds the cap of ${CAPABILITY_LIMITS.maxApiVersionChars}.`,
    },
    {
      what: 'a version that is no version',
      reported: { kubernetesVersion: 'v1.36.0; rm -rf /', apiVersions: ['v1'] },
      problem: 'The Kubernetes version "v1.36.0; rm -rf /" is not a version like v1.35.0.',
    },
    {
      what: 'a failed discovery',
      reported: { kubernetesVersion: '', apiVersions: [], discoveryError: 'the server is currently unable\nto handle the request' },
      problem: "The agent's discovery failed: the server is currently unable?to handle the request",
    },
  ])('refuses a report with $what whole, keeps what was known and shows why', async ({ reported, problem }) => {
    await side.hello(token, reported);
    const shown = await eventually(async () => {
      const v = await view();
      return v.capabilitiesProblem === problem && v;
    }, { what: `the problem "${problem}"` });
    expect(shown).toMatchObject({ kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1', 'v1/ConfigMap'] });
  });

  it('takes a changed report (the cluster was upgraded) and clears the problem', async () => {
    await side.hello(token, { kubernetesVersion: 'v1.36.1', apiVersions: ['v1', 'apps/v1', 'autoscaling/v2/HorizontalPodAutoscaler'] });
    const shown = await eventually(async () => {
      const v = await view();
      return v.kubernetesVersion === 'v1.36.1' && v;
    }, { what: 'the upgraded capabilities' });
    expect(shown).toMatchObject({ apiVersions: ['apps/v1', 'autoscaling/v2/HorizontalPodAutoscaler', 'v1'], capabilitiesProblem: null });
  });

  it('says whether a report changed what was known', async () => {
    const id = (await hub.app.get(ClustersService).get(CLUSTER)).id;
    const now = new Date();
    const same = { kubernetesVersion: 'v1.36.1', apiVersions: ['autoscaling/v2/HorizontalPodAutoscaler', 'v1', 'apps/v1'], discoveryError: '' };
    expect(await service().record(id, same, now)).toEqual({ changed: false });
    expect(await service().record(id, { ...same, apiVersions: [...same.apiVersions, 'policy/v1'] }, now)).toEqual({ changed: true });
    expect(await service().record(id, undefined, now)).toEqual({ changed: false });
  });
});
