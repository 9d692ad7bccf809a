import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { clientsFor, discoveredResource, raw, type Clients } from './spec-support.js';

// Discovery as client-node and kubectl read it: the legacy documents, OpenAPI v3 for kubectl's
// validation check, and the built-in kinds with their scope, short names and subresources.

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
  clients = clientsFor(server);
});
afterAll(() => server.close());

describe('discovery', () => {
  it('reports Kubernetes v1.35 at /version', async () => {
    const version = await clients.config.makeApiClient(k8s.VersionApi).getCode();
    expect(version).toMatchObject({ major: '1', minor: '35', gitVersion: 'v1.35.0' });
  });

  it('lists the core group at /api and the named groups at /apis, each preferring v1', async () => {
    const core = await clients.config.makeApiClient(k8s.CoreApi).getAPIVersions();
    expect(core.versions).toEqual(['v1']);
    const groups = await clients.config.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((group) => `${group.name} ${group.preferredVersion?.groupVersion}`).sort()).toEqual([
      'admissionregistration.k8s.io admissionregistration.k8s.io/v1',
      'apiextensions.k8s.io apiextensions.k8s.io/v1',
      'apiregistration.k8s.io apiregistration.k8s.io/v1',
      'apps apps/v1',
      'authentication.k8s.io authentication.k8s.io/v1',
      'authorization.k8s.io authorization.k8s.io/v1',
      'autoscaling autoscaling/v2',
      'batch batch/v1',
      'certificates.k8s.io certificates.k8s.io/v1',
      'coordination.k8s.io coordination.k8s.io/v1',
      'discovery.k8s.io discovery.k8s.io/v1',
      'events.k8s.io events.k8s.io/v1',
      'flowcontrol.apiserver.k8s.io flowcontrol.apiserver.k8s.io/v1',
      'networking.k8s.io networking.k8s.io/v1',
      'node.k8s.io node.k8s.io/v1',
      'policy policy/v1',
      'rbac.authorization.k8s.io rbac.authorization.k8s.io/v1',
      'resource.k8s.io resource.k8s.io/v1',
      'scheduling.k8s.io scheduling.k8s.io/v1',
      'storage.k8s.io storage.k8s.io/v1',
    ]);
  });

  const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  // Namespaces and Services cannot be deleted as a collection on a real server either.
  const NO_COLLECTION = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  it.each([
    ['v1', 'Namespace', 'namespaces', false, ['ns']],
    ['v1', 'ConfigMap', 'configmaps', true, ['cm']],
    ['v1', 'Secret', 'secrets', true, []],
    ['v1', 'Service', 'services', true, ['svc']],
    ['v1', 'Pod', 'pods', true, ['po']],
    ['v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']],
    ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['pvc']],
    ['v1', 'Event', 'events', true, ['ev']],
    ['apps/v1', 'Deployment', 'deployments', true, ['deploy']],
    ['apps/v1', 'StatefulSet', 'statefulsets', true, ['sts']],
    ['apps/v1', 'DaemonSet', 'daemonsets', true, ['ds']],
    ['apps/v1', 'ReplicaSet', 'replicasets', true, ['rs']],
    ['batch/v1', 'Job', 'jobs', true, []],
    ['batch/v1', 'CronJob', 'cronjobs', true, ['cj']],
    ['networking.k8s.io/v1', 'Ingress', 'ingresses', true, ['ing']],
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds']],
    ['rbac.authorization.k8s.io/v1', 'Role', 'roles', true, []],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true, []],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false, []],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false, []],
  ] as const)('serves %s %s as %s (namespaced: %s)', async (apiVersion, kind, plural, namespaced, shortNames) => {
    const resource = await discoveredResource(server, apiVersion, kind);
    expect(resource).toMatchObject({ name: plural, kind, namespaced, verbs: kind === 'Namespace' || kind === 'Service' ? NO_COLLECTION : ALL });
    expect(resource?.shortNames ?? []).toEqual(shortNames);
  });

  it('lists the status and scale subresources of workloads', async () => {
    const apps = await clients.apps.getAPIResources();
    const subresources = apps.resources.filter((resource) => resource.name.includes('/')).map((resource) => `${resource.name} ${resource.kind} ${resource.verbs.join(',')}`);
    expect(subresources).toEqual([
      'daemonsets/status DaemonSet get,patch,update',
      'deployments/scale Scale get,patch,update',
      'deployments/status Deployment get,patch,update',
      'replicasets/scale Scale get,patch,update',
      'replicasets/status ReplicaSet get,patch,update',
      'statefulsets/scale Scale get,patch,update',
      'statefulsets/status StatefulSet get,patch,update',
    ]);
  });

  it('answers a request for aggregated discovery with the legacy document as plain JSON', async () => {
    const response = await fetch(`${server.url}/apis`, {
      headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' },
    });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ kind: 'APIGroupList' });
  });

  it('serves OpenAPI v3 documents whose PATCH operations take fieldValidation, as kubectl checks', async () => {
    const index = await raw(server, 'GET', '/openapi/v3');
    const paths = index.body['paths'] as Record<string, { serverRelativeURL: string }>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/apiextensions.k8s.io/v1']));
    const apps = await raw(server, 'GET', paths['apis/apps/v1']!.serverRelativeURL);
    const patch = (apps.body['paths'] as Record<string, { patch: Record<string, unknown> }>)['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect((patch?.['parameters'] as { name: string }[]).map((parameter) => parameter.name)).toContain('fieldValidation');
    expect((await raw(server, 'GET', '/openapi/v3/apis/nothing.example.com/v1')).status).toBe(404);
  });

  it('answers 404 with a Status for unknown groups, versions and resources', async () => {
    for (const path of ['/apis/nothing.example.com/v1', '/apis/apps/v2/deployments', '/api/v1/gizmos', '/api/v1/namespaces/default/gizmos/x', '/nowhere']) {
      const response = await raw(server, 'GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    }
  });
});
