import type { DesiredApp } from '@flotilla/proto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RunningHub } from '../../src/hub';
import { FakeAgent } from './fake-agent';
import { eventually } from './graphql-client';
import { startTestHub, type Gql, type TestHub } from './test-hub';

/** What {@link useReleasedApp} gives a test file: its hub, and clusters with the AppSet released to them. */
export interface ReleasedAppFixture {
  readonly hub: () => RunningHub;
  /** The URL of the hub's private database, for a spec that reads or rewrites rows. */
  readonly databaseUrl: () => string;
  readonly gql: Gql;
  /** Registers `cluster` (labelled `env: <label>`), connects a fake agent for it, rolls the AppSet out and returns the DesiredApp the agent got. */
  releasedTo(cluster: string): Promise<{ agent: FakeAgent; desired: DesiredApp }>;
}

/**
 * For a spec that plays an agent's reports for one App: starts a hub before the file's tests (outbox
 * scanned every 200 ms), applies `appSetYaml` (no issues), and stops everything after them, the fake
 * agents included.
 */
export function useReleasedApp(options: { readonly appSetYaml: string; readonly appSet: string; readonly label: string }): ReleasedAppFixture {
  let started: TestHub | undefined;
  const agents: FakeAgent[] = [];
  const running = (): TestHub => {
    if (!started) throw new Error('the hub of useReleasedApp starts in beforeAll');
    return started;
  };
  const gql: Gql = ((...args: Parameters<Gql>) => running().gql(...args)) as Gql;

  beforeAll(async () => {
    started = await startTestHub({ FLOTILLA_OUTBOX_SCAN_MS: '200' });
    const applied = await gql<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: options.appSetYaml });
    expect(applied.data?.applyAppSet.issues).toEqual([]);
  });

  afterAll(async () => {
    for (const agent of agents) agent.close();
    await started?.hub.stop();
    await started?.db.drop();
  });

  return {
    hub: () => running().hub,
    databaseUrl: () => running().db.url,
    gql,
    async releasedTo(cluster) {
      const registered = await gql<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster, labels: { env: options.label } },
      );
      expect(registered.errors).toBeUndefined();
      const agent = new FakeAgent(running().hub, cluster, registered.data!.registerCluster.bootstrapToken);
      agents.push(agent);
      agent.connect();
      await eventually(async () => agent.welcomeCredential(), { what: `${cluster} welcome` });
      const rollout = await gql(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: options.appSet });
      expect(rollout.errors).toBeUndefined();
      const desired = await eventually(async () => agent.desired()[0], { what: `DesiredApp on ${cluster}` });
      return { agent, desired };
    },
  };
}
