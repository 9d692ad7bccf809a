import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import { loadAgentConfig } from '../core/config.js';
import { SIM_KUBERNETES_VERSION, SimDriver } from './sim-driver.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const minimal = { FLOTILLA_HUB_ADDRESS: 'hub.flotilla.svc:7443', FLOTILLA_HUB_CA: CA_PEM, FLOTILLA_CLUSTER_NAME: 'edge-1', FLOTILLA_BOOTSTRAP_TOKEN: 'bt-secret-123' };

describe("the simulated cluster's capabilities", () => {
  it.each([
    { configured: undefined, reported: SIM_KUBERNETES_VERSION },
    { configured: 'v1.31.7-eks-1a2b3c', reported: 'v1.31.7-eks-1a2b3c' },
  ])('reports Kubernetes $reported when configured with $configured, and a fixed list of built-in kinds', async ({ configured, reported }) => {
    const driver = new SimDriver({ healthyAfterMs: 0, failApps: [], clock: new ManualClock(), ...(configured !== undefined ? { kubernetesVersion: configured } : {}) });
    const capabilities = await driver.capabilities();
    expect(capabilities.kubernetesVersion).toBe(reported);
    expect(capabilities.discoveryError).toBe('');
    expect(capabilities.apiVersions).toEqual(expect.arrayContaining(['v1', 'v1/ConfigMap', 'apps/v1', 'apps/v1/Deployment', 'batch/v1/Job', 'policy/v1/PodDisruptionBudget']));
    expect(capabilities.apiVersions).toEqual([...capabilities.apiVersions].sort());
  });

  it.each([
    { value: 'v1.33.4', config: { kind: 'sim', healthyAfterMs: 2000, failApps: [], kubernetesVersion: 'v1.33.4' } },
    { value: undefined, config: { kind: 'sim', healthyAfterMs: 2000, failApps: [] } },
  ])('FLOTILLA_SIM_KUBERNETES_VERSION=$value configures the simulated driver', ({ value, config }) => {
    const result = loadAgentConfig({ ...minimal, ...(value !== undefined ? { FLOTILLA_SIM_KUBERNETES_VERSION: value } : {}) });
    expect(result.ok && result.config.driver).toEqual(config);
  });

  it.each(['1.33', 'latest', 'v1.33.4 --set a=b'])('refuses FLOTILLA_SIM_KUBERNETES_VERSION=%s with a clear issue', (value) => {
    const result = loadAgentConfig({ ...minimal, FLOTILLA_SIM_KUBERNETES_VERSION: value });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((issue) => issue.message)).toContainEqual(`FLOTILLA_SIM_KUBERNETES_VERSION must be a Kubernetes version like v1.35.0; got ${JSON.stringify(value)}`);
  });
});
