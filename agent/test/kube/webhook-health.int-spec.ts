import { writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { Health } from '@flotilla/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/desired-state.js';
import { kubeconfigFor } from '../kube-api-server/kubeconfig.js';
import { eventually } from '../support/eventually.js';
import { appSpec, createNamespace, resourceOf, serviceObject, startDriver, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';
import { startTestServerTarget, type KubeTarget } from './support/targets.js';

// Admission webhooks are judged by the ready endpoints of the Services they call: the driver watches
// the EndpointSlices of exactly those Services and judges again when they change. The webhooks match
// a resource no cluster serves, so a real cluster's API requests never reach them.

/** A Service without a selector: no controller makes its EndpointSlices, the test does. */
const webhookService = (name: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }] },
});

const webhookConfiguration = (kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration', name: string, webhook: string, service: { namespace: string; name: string }, failurePolicy: 'Fail' | 'Ignore'): Manifest => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind,
  metadata: { name },
  webhooks: [
    {
      name: webhook,
      clientConfig: { service: { ...service, path: '/admit' } },
      rules: [{ apiGroups: ['never.flotilla.test'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['nothings'] }],
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy,
    },
  ],
});

const endpointSlice = (namespace: string, name: string, service: string, ready: boolean): Manifest => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'https', port: 8443, protocol: 'TCP' }],
  endpoints: [{ addresses: ['10.1.2.3'], conditions: { ready } }],
});

describeForTargets('the Kubernetes driver judging admission webhooks by their endpoints', (target) => {
  let under: DriverUnderTest;

  beforeAll(async () => {
    under = await startDriver(target());
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  async function namespaceFor(label: string): Promise<string> {
    const namespace = target().namespace(label);
    await createNamespace(target(), namespace);
    return namespace;
  }
  const slicesPath = (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
  function webhookName(label: string): string {
    const name = `${label}-${target().suffix}`;
    for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) target().cleanupLater(`/apis/admissionregistration.k8s.io/v1/${resource}/${name}`);
    return name;
  }

  it('judges a webhook configuration DEGRADED while its service has no ready endpoint, naming webhook and service, and HEALTHY once it has one, without a new apply', async () => {
    const ns = await namespaceFor('webhook');
    const name = webhookName('guard');
    const spec = appSpec('webhook', ns, [webhookService('guard'), webhookConfiguration('ValidatingWebhookConfiguration', name, 'guard.flotilla.test', { namespace: ns, name: 'guard' }, 'Fail')]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    await eventually(
      () => {
        const status = under.driver.status('webhook');
        expect(resourceOf(status, 'ValidatingWebhookConfiguration', name)).toMatchObject({
          health: Health.DEGRADED,
          message: `webhook guard.flotilla.test: service ${ns}/guard has no ready endpoint (failurePolicy Fail)`,
        });
        expect(status?.health).toBe(Health.DEGRADED);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );

    // A slice whose only endpoint is not ready changes nothing; one with a ready endpoint does.
    await target().client.request('POST', slicesPath(ns), { body: endpointSlice(ns, 'guard-starting', 'guard', false) });
    await target().client.request('POST', slicesPath(ns), { body: endpointSlice(ns, 'guard-ready', 'guard', true) });

    await eventually(
      () => {
        const status = under.driver.status('webhook');
        expect(resourceOf(status, 'ValidatingWebhookConfiguration', name)).toMatchObject({ health: Health.HEALTHY, message: '1 webhook configured' });
        expect(status).toMatchObject({ health: Health.HEALTHY, revision: spec.revision, generation: spec.generation });
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );

    // And back, when the ready endpoint goes away.
    await target().client.request('DELETE', `${slicesPath(ns)}/guard-ready`);
    await eventually(() => expect(resourceOf(under.driver.status('webhook'), 'ValidatingWebhookConfiguration', name)?.health).toBe(Health.DEGRADED), { timeoutMs: 10_000, intervalMs: 50 });
  });

  it('still reports a webhook whose failurePolicy is Ignore (requests then pass unchecked)', async () => {
    const ns = await namespaceFor('webhook-ignore');
    const name = webhookName('defaults');
    const spec = appSpec('webhook-ignore', ns, [webhookService('defaulter'), webhookConfiguration('MutatingWebhookConfiguration', name, 'defaults.flotilla.test', { namespace: ns, name: 'defaulter' }, 'Ignore')]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    await eventually(
      () =>
        expect(resourceOf(under.driver.status('webhook-ignore'), 'MutatingWebhookConfiguration', name)).toMatchObject({
          health: Health.DEGRADED,
          message: `webhook defaults.flotilla.test: service ${ns}/defaulter has no ready endpoint (failurePolicy Ignore)`,
        }),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });

  it("watches the endpoints of the services the App's webhooks call and no others, and stops when the App goes", async () => {
    const ns = await namespaceFor('webhook-scope');
    const name = webhookName('scoped');
    const spec = appSpec('webhook-scope', ns, [serviceObject('web'), webhookService('hooks'), webhookConfiguration('ValidatingWebhookConfiguration', name, 'scoped.flotilla.test', { namespace: ns, name: 'hooks' }, 'Fail')]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    expect(under.driver.endpointWatches()).toContain(`${ns}/hooks`);
    expect(under.driver.endpointWatches()).not.toContain(`${ns}/web`);

    expect(await under.driver.remove('webhook-scope', { preserveResources: false })).toEqual({ kind: 'done' });
    expect(under.driver.endpointWatches()).not.toContain(`${ns}/hooks`);
  });
});

/**
 * A loopback proxy in front of the test server that answers 403 Forbidden to every EndpointSlice
 * request while `refuse` is on (from the start), as an API server does for an agent whose role does not
 * grant them; the rest passes through.
 */
async function startForbiddingProxy(upstream: string): Promise<{ url: string; refused: string[]; refuse(on: boolean): void; close(): Promise<void> }> {
  const target = new URL(upstream);
  const refused: string[] = [];
  let refusing = true;
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    if (refusing && path.includes('/endpointslices')) {
      refused.push(`${incoming.method} ${path}`);
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:flotilla-system:flotilla-agent" cannot list resource "endpointslices"' };
      incoming.resume();
      outgoing.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    const forwarded = request({ host: target.hostname, port: target.port, method: incoming.method, path, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.destroy());
    outgoing.on('close', () => forwarded.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    refused,
    refuse: (on) => {
      refusing = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the Kubernetes driver when it may not list EndpointSlices', () => {
  let target: KubeTarget;
  let proxy: Awaited<ReturnType<typeof startForbiddingProxy>>;
  let under: DriverUnderTest;

  beforeAll(async () => {
    target = await startTestServerTarget();
    proxy = await startForbiddingProxy(target.server!.url);
    const kubeconfigPath = join(target.kubeconfigPath, '..', 'through-proxy.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigFor(proxy.url, undefined, 'default'), { mode: 0o600 });
    under = await startDriver({ ...target, kubeconfigPath });
  }, 30_000);
  afterAll(async () => {
    await under?.close();
    await proxy?.close();
    await target?.close();
  }, 30_000);

  it('does not judge the webhooks by endpoints it cannot know: the configuration is HEALTHY once it exists', async () => {
    const ns = target.namespace('webhook-forbidden');
    await createNamespace(target, ns);
    const name = `unknown-${target.suffix}`;
    target.cleanupLater(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`);
    const spec = appSpec('webhook-forbidden', ns, [webhookService('hooks'), webhookConfiguration('ValidatingWebhookConfiguration', name, 'unknown.flotilla.test', { namespace: ns, name: 'hooks' }, 'Fail')]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    // The agent asked and was refused; the App is judged on the objects alone.
    await eventually(() => expect(proxy.refused.some((line) => line.startsWith(`GET /apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?`))).toBe(true), { timeoutMs: 10_000, intervalMs: 50 });
    await eventually(
      () => {
        const status = under.driver.status('webhook-forbidden');
        expect(resourceOf(status, 'ValidatingWebhookConfiguration', name)).toMatchObject({ health: Health.HEALTHY, message: '1 webhook configured' });
        expect(status?.health).toBe(Health.HEALTHY);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(under.driver.endpointWatches()).toEqual([`${ns}/hooks`]);
  });

  it('forgets the endpoints it knew when listing them becomes forbidden (a role narrowed later)', async () => {
    proxy.refuse(false);
    const ns = target.namespace('webhook-revoked');
    await createNamespace(target, ns);
    const name = `revoked-${target.suffix}`;
    target.cleanupLater(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`);
    const spec = appSpec('webhook-revoked', ns, [webhookService('hooks'), webhookConfiguration('ValidatingWebhookConfiguration', name, 'revoked.flotilla.test', { namespace: ns, name: 'hooks' }, 'Fail')]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });
    const webhook = () => resourceOf(under.driver.status('webhook-revoked'), 'ValidatingWebhookConfiguration', name);
    await eventually(() => expect(webhook()?.health).toBe(Health.DEGRADED), { timeoutMs: 10_000, intervalMs: 50 });

    // The watch is cut and resumed; the API server now refuses it.
    proxy.refuse(true);
    target.server!.dropWatches();
    await eventually(() => expect(webhook()).toMatchObject({ health: Health.HEALTHY, message: '1 webhook configured' }), { timeoutMs: 10_000, intervalMs: 50 });

    // Allowed again: listed anew and judged by its endpoints.
    proxy.refuse(false);
    target.server!.dropWatches();
    await eventually(() => expect(webhook()?.health).toBe(Health.DEGRADED), { timeoutMs: 10_000, intervalMs: 50 });
  }, 40_000);
});
