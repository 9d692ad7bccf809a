import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { discoveredResource, raw } from './spec-support.js';

// Every built-in kind of Kubernetes 1.35 (built-in-resources.generated.json): discovery, field
// ownership of keyed lists from the real merge schema, and the immutable fields a chart upgrade meets.

let server: KubeApiTestServer;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
  await raw(server, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } });
});
afterAll(() => server.close());

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const apply = (path: string, body: unknown, manager: string) =>
  raw(server, 'PATCH', `${path}?fieldManager=${manager}`, { body: JSON.stringify(body), contentType: 'application/apply-patch+yaml' });

describe('discovery of the built-in kinds of Kubernetes 1.35', () => {
  it.each([
    ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false, [], ALL],
    ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false, [], ALL],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa'], ALL],
    ['autoscaling/v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa'], ALL],
    ['policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], ALL],
    ['networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol'], ALL],
    ['networking.k8s.io/v1', 'IngressClass', 'ingressclasses', false, [], ALL],
    ['storage.k8s.io/v1', 'StorageClass', 'storageclasses', false, ['sc'], ALL],
    ['v1', 'PersistentVolume', 'persistentvolumes', false, ['pv'], ALL],
    ['v1', 'Endpoints', 'endpoints', true, ['ep'], ALL],
    ['discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', true, [], ALL],
    ['scheduling.k8s.io/v1', 'PriorityClass', 'priorityclasses', false, ['pc'], ALL],
    ['coordination.k8s.io/v1', 'Lease', 'leases', true, [], ALL],
    ['v1', 'Service', 'services', true, ['svc'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['v1', 'Namespace', 'namespaces', false, ['ns'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
    ['authentication.k8s.io/v1', 'TokenReview', 'tokenreviews', false, [], ['create']],
    ['v1', 'Binding', 'bindings', true, [], ['create']],
    ['v1', 'ComponentStatus', 'componentstatuses', false, ['cs'], ['get', 'list']],
  ] as const)('serves %s %s as %s (namespaced: %s)', async (apiVersion, kind, plural, namespaced, shortNames, verbs) => {
    const resource = await discoveredResource(server, apiVersion, kind);
    expect(resource).toMatchObject({ name: plural, kind, namespaced, verbs });
    expect(resource?.shortNames ?? []).toEqual(shortNames);
  });

  it('prefers autoscaling/v2 and lists the subresources of pods with the kinds they take', async () => {
    expect((await raw(server, 'GET', '/apis/autoscaling')).body).toMatchObject({ preferredVersion: { groupVersion: 'autoscaling/v2' } });
    const core = (await raw(server, 'GET', '/api/v1')).body['resources'] as { name: string; kind: string; group?: string; verbs: string[] }[];
    expect(core.filter((entry) => entry.name.startsWith('pods/')).map((entry) => `${entry.name} ${entry.group ?? ''}${entry.kind} ${entry.verbs.join(',')}`)).toEqual([
      'pods/binding Binding create',
      'pods/ephemeralcontainers Pod get,patch,update',
      'pods/eviction policyEviction create',
      'pods/log Pod get',
      'pods/proxy PodProxyOptions create,delete,get,patch,update',
      'pods/resize Pod get,patch,update',
      'pods/status Pod get,patch,update',
    ]);
  });
});

describe('server-side apply on keyed lists of built-in kinds', () => {
  it('keeps the webhooks of two managers who each apply their own entry of a webhook configuration', async () => {
    const path = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
    const webhook = (name: string, service: string) => ({
      name,
      clientConfig: { service: { namespace: 'shop', name: service, path: '/validate' } },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
    });
    const config = (hook: object) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'guards' }, webhooks: [hook] });
    expect((await apply(`${path}/guards`, config(webhook('a.guards.example.com', 'guard-a')), 'chart-a')).status).toBe(201);
    expect((await apply(`${path}/guards`, config(webhook('b.guards.example.com', 'guard-b')), 'chart-b')).status).toBe(200);
    // chart-a re-applies with a changed service: only its entry changes, chart-b's stays.
    const changed = await apply(`${path}/guards`, config(webhook('a.guards.example.com', 'guard-a2')), 'chart-a');
    expect(changed.status).toBe(200);
    const webhooks = changed.body['webhooks'] as { name: string; clientConfig: { service: { name: string } } }[];
    expect(webhooks.map((hook) => `${hook.name}→${hook.clientConfig.service.name}`)).toEqual(['a.guards.example.com→guard-a2', 'b.guards.example.com→guard-b']);
    const managed = (changed.body['metadata'] as { managedFields: { manager: string; fieldsV1: { 'f:webhooks': Record<string, unknown> } }[] }).managedFields;
    expect(Object.fromEntries(managed.map((entry) => [entry.manager, Object.keys(entry.fieldsV1['f:webhooks'])]))).toEqual({
      'chart-a': ['k:{"name":"a.guards.example.com"}'],
      'chart-b': ['k:{"name":"b.guards.example.com"}'],
    });
  });
});

describe('immutable fields', () => {
  const job = (image: string, parallelism = 1) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: 'shop' },
    spec: { parallelism, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } } },
  });
  const deployment = (app: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
  });
  const service = (clusterIP: string | undefined) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { ...(clusterIP === undefined ? {} : { clusterIP }), ports: [{ port: 80 }] },
  });
  const claim = (storage: string, storageClassName: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'shop' },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage } } },
  });
  const frozen = (kind: 'ConfigMap' | 'Secret', value: string, immutable = true) => ({
    apiVersion: 'v1',
    kind,
    metadata: { name: `frozen-${kind.toLowerCase()}`, namespace: 'shop' },
    immutable,
    data: { key: kind === 'Secret' ? Buffer.from(value).toString('base64') : value },
  });

  it.each([
    ['a Job’s pod template', '/apis/batch/v1/namespaces/shop/jobs/migrate', job('migrate:1'), job('migrate:2'), job('migrate:1', 2), /^Job\.batch "migrate" is invalid: spec\.template: Invalid value: .*: field is immutable$/],
    ['a Deployment’s selector', '/apis/apps/v1/namespaces/shop/deployments/web', deployment('web'), deployment('web-v2'), undefined, /^Deployment\.apps "web" is invalid: spec\.selector: Invalid value: \{"matchLabels":\{"app":"web-v2"\}\}: field is immutable$/],
    ['a Service’s clusterIP once set', '/api/v1/namespaces/shop/services/web', service('10.96.0.42'), service('10.96.0.43'), service(undefined), /^Service "web" is invalid: spec\.clusterIPs\[0\]: Invalid value: \["10\.96\.0\.43"\]: may not change once set$/],
    [
      'a PVC’s spec except the storage request',
      '/api/v1/namespaces/shop/persistentvolumeclaims/data',
      claim('1Gi', 'fast'),
      claim('1Gi', 'slow'),
      claim('2Gi', 'fast'),
      /^PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims$/,
    ],
    ['the data of an immutable ConfigMap', '/api/v1/namespaces/shop/configmaps/frozen-configmap', frozen('ConfigMap', 'a'), frozen('ConfigMap', 'b'), undefined, /^ConfigMap "frozen-configmap" is invalid: data: Forbidden: field is immutable when `immutable` is set$/],
    ['an immutable Secret', '/api/v1/namespaces/shop/secrets/frozen-secret', frozen('Secret', 'a'), frozen('Secret', 'a', false), undefined, /^Secret "frozen-secret" is invalid: immutable: Forbidden: field is immutable when `immutable` is set$/],
  ] as const)('refuses to change %s with 422 Invalid, and still takes allowed changes', async (_what, path, created, changed, allowed, message) => {
    expect((await apply(path, created, 'helm')).status).toBe(201);
    const before = await raw(server, 'GET', path);
    const refused = await apply(path, changed, 'helm');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
    expect(refused.body['message']).toMatch(message);
    expect((await raw(server, 'GET', path)).body).toEqual(before.body);
    if (allowed !== undefined) expect((await apply(path, allowed, 'helm')).status).toBe(200);
  });
});
