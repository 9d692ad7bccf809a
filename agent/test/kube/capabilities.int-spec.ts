import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDriver, widgetDefinition, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';

describeForTargets("the Kubernetes driver's capabilities", (target) => {
  let under: DriverUnderTest;

  beforeAll(async () => {
    under = await startDriver(target());
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  it("reports the API server's version and its served group/versions and kinds, sorted, without subresources", async () => {
    const version = await target().client.request<{ gitVersion: string }>('GET', '/version');
    const capabilities = await under.driver.capabilities();

    expect(capabilities.discoveryError).toBe('');
    expect(capabilities.kubernetesVersion).toBe(version.gitVersion);
    expect(capabilities.apiVersions).toEqual(expect.arrayContaining(['v1', 'v1/ConfigMap', 'v1/Namespace', 'apps/v1', 'apps/v1/Deployment', 'batch/v1', 'batch/v1/Job']));
    expect(capabilities.apiVersions).toEqual([...capabilities.apiVersions].sort());
    expect(new Set(capabilities.apiVersions).size).toBe(capabilities.apiVersions.length);
    // `deployments/scale` is served as kind Scale of autoscaling/v1, not as a kind of apps/v1.
    expect(capabilities.apiVersions).not.toContain('apps/v1/Scale');
    expect(capabilities.apiVersions.every((entry) => entry.split('/').length <= 3)).toBe(true);
  });

  it('reports every group/version the server lists, each with the kinds its discovery document names', async () => {
    const apis = await target().client.request<{ groups: { versions: { groupVersion: string }[] }[] }>('GET', '/apis');
    const apps = await target().client.request<{ resources: { name: string; kind: string }[] }>('GET', '/apis/apps/v1');
    const capabilities = await under.driver.capabilities();

    for (const groupVersion of apis.groups.flatMap((g) => g.versions.map((v) => v.groupVersion))) expect(capabilities.apiVersions).toContain(groupVersion);
    const appsKinds = [...new Set(apps.resources.filter((r) => !r.name.includes('/')).map((r) => `apps/v1/${r.kind}`))].sort();
    expect(capabilities.apiVersions.filter((entry) => entry.startsWith('apps/v1/'))).toEqual(appsKinds);
  });

  it('finds the group of a CustomResourceDefinition once it is established', async () => {
    const { group, crd } = widgetDefinition(target());
    target().cleanupLater(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`);
    await target().client.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });

    await expect
      .poll(async () => (await under.driver.capabilities()).apiVersions, { timeout: 15_000, interval: 100 })
      .toEqual(expect.arrayContaining([`${group}/v1`, `${group}/v1/Widget`]));
  });

  it('says why when discovery fails, with empty lists, and does not throw', async () => {
    const server = target().server;
    if (server === undefined) return; // fault injection needs the in-process server
    server.setUnavailable(true);
    try {
      const capabilities = await under.driver.capabilities();
      expect(capabilities.apiVersions).toEqual([]);
      expect(capabilities.discoveryError).not.toBe('');
    } finally {
      server.setUnavailable(false);
    }
  });
});
