import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { KubeApiTestServer } from './index.js';
import { managersOf } from './spec-support.js';

// Fidelity with the real kubectl v1.35 (installed into .tools/bin by scripts/setup-tools.sh): if kubectl
// works against the server unchanged, the wire protocol is right where kubectl looks.

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const KUBECTL = join(ROOT, '.tools/bin/kubectl');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let server: KubeApiTestServer;
let home: string;
let kubeconfig: string;

/** Runs kubectl asynchronously: the server lives in this process, so a synchronous spawn would deadlock. */
function kubectl(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECACHEDIR: join(home, 'cache') }, timeout: 30_000 }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

async function manifest(name: string, yaml: string): Promise<string> {
  const path = join(home, name);
  await writeFile(path, yaml);
  return path;
}

const configMapYaml = (mode: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {tier: config}
data:
  mode: ${mode}
`;

beforeAll(async () => {
  if (!existsSync(KUBECTL)) {
    const setup = spawnSync('bash', [join(ROOT, 'scripts/setup-tools.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (setup.status !== 0) throw new Error(`scripts/setup-tools.sh failed (${setup.status}):\n${setup.stdout}\n${setup.stderr}`);
  }
  // No token: kubectl does not send bearer tokens to a plain-HTTP server.
  server = await KubeApiTestServer.start({ crdEstablishDelayMs: 50 });
  home = await mkdtemp(join(tmpdir(), 'kube-api-server-kubectl-'));
  kubeconfig = join(home, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
}, 300_000);
afterAll(async () => {
  await server?.close();
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

describe('kubectl v1.35', () => {
  it('applies a ConfigMap server-side after its OpenAPI and discovery requests', async () => {
    const start = server.requestLog().length;
    const run = await kubectl('apply', '--server-side', '-f', await manifest('configmap.yaml', configMapYaml('fast')));
    expect(run).toMatchObject({ code: 0, stdout: 'configmap/app-config serverside-applied\n' });
    const stored = server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-config' });
    expect(stored?.['data']).toEqual({ mode: 'fast' });
    expect(managersOf(stored as never)).toEqual(['kubectl/Apply']);
    const requests = server.requestLog().slice(start);
    expect(requests.map((entry) => `${entry.method} ${entry.path}`)).toContain('GET /openapi/v3');
    const patch = requests.find((entry) => entry.method === 'PATCH');
    expect(patch).toMatchObject({ path: '/api/v1/namespaces/default/configmaps/app-config', status: 201 });
    expect(new URLSearchParams(patch!.query).get('fieldManager')).toBe('kubectl');
    expect(new URLSearchParams(patch!.query).get('force')).toBe('false');
    expect(requests.every((entry) => entry.status < 400 || entry.path.startsWith('/openapi'))).toBe(true);
  });

  it('applies a Deployment server-side', async () => {
    const run = await kubectl(
      'apply',
      '--server-side',
      '-f',
      await manifest(
        'deployment.yaml',
        `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {tier: frontend}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
`,
      ),
    );
    expect(run).toMatchObject({ code: 0, stdout: 'deployment.apps/web serverside-applied\n' });
    await eventually(() => expect(server.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' })?.['status']).toMatchObject({ availableReplicas: 2 }));
  });

  it('applies a CRD, then once it is established a custom resource of it', async () => {
    const crd = await kubectl(
      'apply',
      '--server-side',
      '-f',
      await manifest(
        'crd.yaml',
        `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`,
      ),
    );
    expect(crd).toMatchObject({ code: 0, stdout: 'customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied\n' });
    await eventually(() => {
      const conditions = (server.getObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' })?.['status'] as { conditions: { type: string; status: string }[] }).conditions;
      expect(conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    });
    const widget = await kubectl('apply', '--server-side', '-f', await manifest('widget.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n'));
    expect(widget).toMatchObject({ code: 0, stdout: 'widget.example.com/w1 serverside-applied\n' });
    expect(server.getObject({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: 'w1' })?.['spec']).toEqual({ size: 3 });
  });

  it('gets one object and a labelled list as JSON', async () => {
    const one = await kubectl('get', 'configmap', 'app-config', '-o', 'json');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'default' }, data: { mode: 'fast' } });
    const list = await kubectl('get', 'configmaps,deployments', '-l', 'tier', '-o', 'json');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { kind: string; metadata: { name: string } }[] }).items.map((item) => `${item.kind}/${item.metadata.name}`)).toEqual(['ConfigMap/app-config', 'Deployment/web']);
  });

  it('prints NAME and AGE for human-readable get, cluster-scoped kinds included', async () => {
    const deployments = await kubectl('get', 'deployments');
    expect(deployments.code).toBe(0);
    expect(deployments.stdout).toMatch(/^NAME\s+AGE\nweb\s+\d+s\n$/);
    const crds = await kubectl('get', 'crds');
    expect(crds.stdout).toMatch(/^NAME\s+AGE\nwidgets\.example\.com\s+\d+s\n$/);
  });

  it('refuses a second field manager changing an owned value without --force-conflicts, and lets it with', async () => {
    const path = await manifest('configmap-other.yaml', configMapYaml('slow'));
    const refused = await kubectl('apply', '--server-side', '--field-manager=other', '-f', path);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.mode');
    expect(refused.stderr).toContain('--force-conflicts');
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-config' })?.['data']).toEqual({ mode: 'fast' });

    const forced = await kubectl('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', path);
    expect(forced).toMatchObject({ code: 0, stdout: 'configmap/app-config serverside-applied\n' });
    const stored = server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-config' });
    expect(stored?.['data']).toEqual({ mode: 'slow' });
    expect(managersOf(stored as never)).toEqual(['kubectl/Apply', 'other/Apply']);
  });

  it('patches with --type merge as kubectl-patch', async () => {
    const run = await kubectl('patch', 'configmap', 'app-config', '--type', 'merge', '-p', '{"data":{"extra":"yes"}}');
    expect(run).toMatchObject({ code: 0, stdout: 'configmap/app-config patched\n' });
    const stored = server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-config' });
    expect(stored?.['data']).toEqual({ mode: 'slow', extra: 'yes' });
    expect(managersOf(stored as never)).toContain('kubectl-patch/Update');
  });

  it('deletes, then reports the object as not found', async () => {
    const deleted = await kubectl('delete', 'configmap', 'app-config');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(/^configmap "app-config" deleted/);
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-config' })).toBeUndefined();
    const missing = await kubectl('get', 'configmap', 'app-config');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): configmaps "app-config" not found\n');
  });
});
