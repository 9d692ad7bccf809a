import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { KubeApiTestServer } from './index.js';

/** What this folder's specs share: clients for a server, raw requests, Status assertions, manifests. */

export interface Clients {
  readonly config: k8s.KubeConfig;
  readonly objects: k8s.KubernetesObjectApi;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
}

export function clientsFor(server: KubeApiTestServer, namespace = 'default'): Clients {
  const config = new k8s.KubeConfig();
  config.loadFromString(server.kubeconfigYaml({ namespace }));
  return { config, objects: k8s.KubernetesObjectApi.makeApiClient(config), core: config.makeApiClient(k8s.CoreV1Api), apps: config.makeApiClient(k8s.AppsV1Api) };
}

/** A manifest as tests write it: a Kubernetes object with any further fields. */
export type Manifest = k8s.KubernetesObject & { [field: string]: unknown };

/** Server-side apply through the generic client, as the agent's driver does it. */
export function serverSideApply(clients: Clients, object: Manifest, manager: string, options: { force?: boolean; dryRun?: boolean } = {}): Promise<k8s.KubernetesObject> {
  return clients.objects.patch(object, undefined, options.dryRun ? 'All' : undefined, manager, options.force ?? false, k8s.PatchStrategy.ServerSideApply);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** One HTTP request with fetch, bypassing any client library; JSON bodies are sent as JSON. */
export async function raw(
  server: KubeApiTestServer,
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' || options.body instanceof Uint8Array ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The Status a failed client call carried; fails the test when the call succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string; details?: { name?: string; kind?: string; group?: string; causes?: { reason: string; message: string; field?: string }[] } }> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    const body = typeof error.body === 'string' ? (JSON.parse(error.body) as Record<string, unknown>) : (error.body as Record<string, unknown>);
    expect(body['kind']).toBe('Status');
    expect(body['code']).toBe(error.code);
    return body as never;
  }
  throw new Error(`expected the call to fail, it returned ${JSON.stringify(outcome).slice(0, 300)}`);
}

export function configMap(name: string, data: Record<string, string>, extra: { namespace?: string; labels?: Record<string, string> } = {}): Manifest & { data: Record<string, string> } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }), ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
    data,
  };
}

export function deployment(name: string, options: { replicas?: number; image?: string; annotations?: Record<string, string>; env?: { name: string; value: string }[] } = {}): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name }, ...(options.annotations === undefined ? {} : { annotations: options.annotations }) },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: options.image ?? 'nginx:1.27', ...(options.env === undefined ? {} : { env: options.env }) }] },
      },
    },
  };
}

/**
 * client-node serializes typed kinds through its models, which know OpenAPI extensions only by their
 * model names (`x_kubernetes_list_type`) and silently drop the wire spelling (`x-kubernetes-list-type`);
 * so a CRD in wire form is renamed before it goes through KubernetesObjectApi.
 */
export function asClientModel<T>(value: T): T {
  if (Array.isArray(value)) return value.map(asClientModel) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key.startsWith('x-kubernetes-') ? key.replace(/-/g, '_') : key, asClientModel(child)]),
  ) as T;
}

/** A namespaced CRD `widgets.example.com` (or cluster-scoped `gadgets.example.com`) with a status subresource. */
export function widgetDefinition(scope: 'Namespaced' | 'Cluster' = 'Namespaced', versions: { name: string; served: boolean; storage: boolean }[] = [{ name: 'v1', served: true, storage: true }]): Manifest {
  const [plural, kind] = scope === 'Namespaced' ? ['widgets', 'Widget'] : ['gadgets', 'Gadget'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.example.com` },
    spec: {
      group: 'example.com',
      scope,
      names: { plural, singular: kind.toLowerCase(), kind, shortNames: [plural.slice(0, 2)] },
      versions: versions.map((version) => ({
        ...version,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer' },
                  ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
                  tags: { type: 'array', items: { type: 'string' } },
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      })),
    },
  };
}

/** An object with managedFields, as client-node or the server's direct access returns it. */
interface Managed {
  readonly metadata?: { readonly managedFields?: readonly { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[] };
}

/** The fieldsV1 of `manager`'s entry (Apply or Update as asked) in an object's managedFields. */
export function fieldsOf(object: Managed | undefined, manager: string, operation: 'Apply' | 'Update' = 'Apply'): unknown {
  return object?.metadata?.managedFields?.find((entry) => entry.manager === manager && entry.operation === operation)?.fieldsV1;
}

/** Managers of an object, as `name/operation` strings, sorted. */
export function managersOf(object: Managed | undefined): string[] {
  return (object?.metadata?.managedFields ?? []).map((entry) => `${entry.manager}/${entry.operation}${entry.subresource ? `/${entry.subresource}` : ''}`).sort();
}

/** The discovery entry of `kind` in `apiVersion`, read from the server's APIResourceList. */
export async function discoveredResource(server: KubeApiTestServer, apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> {
  const list = await raw(server, 'GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
  return (list.body['resources'] as k8s.V1APIResource[] | undefined)?.find((resource) => resource.kind === kind && !resource.name.includes('/'));
}
