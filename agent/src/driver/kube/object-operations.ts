import type { Clock } from '../../clock.js';
import {
  APP_ANNOTATION,
  APP_LABEL,
  APP_SET_ANNOTATION,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  appOfObject,
  appSelector,
  isRecord,
  recordAt,
  refOf,
  type KubeObject,
  type ObjectRef,
} from '../../core/kube/object-ref.js';
import type { LiveObjectSummary } from '../../core/kube/prune.js';
import { collectionPath, objectPath, type Discovery, type ResourceType } from './discovery.js';
import { APPLY_PATCH, KubeApiError, MERGE_PATCH, type KubeClient } from './kube-client.js';

/**
 * The requests the Kubernetes driver makes for one object or one App: server-side apply (for real or
 * as a dry run), read, delete, list by the App's label, release, and waiting for a CRD.
 */

/** Server-side apply of `body` with the agent's field manager. Returns the object as the server made it. */
export function applyObject(client: KubeClient, type: ResourceType, ref: ObjectRef, body: KubeObject, options: { force: boolean; dryRun?: boolean }): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', objectPath(type, ref), {
    query: { fieldManager: FIELD_MANAGER, force: options.force, dryRun: options.dryRun === true ? 'All' : undefined },
    contentType: APPLY_PATCH,
    body,
  });
}

/** The live object, or undefined when it does not exist. */
export async function readObject(client: KubeClient, type: ResourceType, ref: ObjectRef): Promise<KubeObject | undefined> {
  try {
    const object = await client.request<KubeObject>('GET', objectPath(type, ref));
    return { apiVersion: type.apiVersion, kind: type.kind, ...object };
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Deletes the object (dependents in the background). An object already gone counts as deleted. */
export async function deleteObject(client: KubeClient, type: ResourceType, ref: ObjectRef): Promise<void> {
  try {
    await client.request('DELETE', objectPath(type, ref), { body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' } });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
  }
}

/**
 * Stops managing an object without deleting it: removes the tracking labels and annotations (a merge
 * patch, so no other field changes), so that it is visibly unmanaged and no later prune can find it.
 */
export async function releaseObject(client: KubeClient, type: ResourceType, ref: ObjectRef): Promise<void> {
  try {
    await client.request('PATCH', objectPath(type, ref), {
      query: { fieldManager: FIELD_MANAGER },
      contentType: MERGE_PATCH,
      body: {
        metadata: {
          labels: { [MANAGED_BY_LABEL]: null, [APP_LABEL]: null },
          annotations: { [APP_ANNOTATION]: null, [APP_SET_ANNOTATION]: null },
        },
      },
    });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
  }
}

/** A live object of an App found by label, with the type it was listed through. */
export interface ListedObject extends LiveObjectSummary {
  readonly type: ResourceType;
}

/**
 * Every live object carrying the App's labels, over the given types. Cluster-wide lists first; when a
 * cluster-wide list is forbidden (namespace-limited RBAC), one list per namespace of `namespaces`.
 */
export async function listAppObjects(
  client: KubeClient,
  types: readonly ResourceType[],
  appName: string,
  namespaces: readonly string[],
): Promise<ListedObject[]> {
  const found: ListedObject[] = [];
  const selector = appSelector(appName);
  for (const type of types) {
    let lists: (string | undefined)[] = [undefined];
    const items: unknown[] = [];
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        for (const namespace of lists) items.push(...(await listAll(client, type, namespace, selector)));
        break;
      } catch (error) {
        if (attempt === 0 && type.namespaced && error instanceof KubeApiError && error.status === 403) {
          lists = [...namespaces];
          items.length = 0;
          continue;
        }
        throw error;
      }
    }
    for (const item of items) {
      if (!isRecord(item)) continue;
      const object: KubeObject = { apiVersion: type.apiVersion, kind: type.kind, ...item };
      const ref = refOf(object);
      if (ref === undefined) continue;
      found.push({ type, ref, app: appOfObject(object), deleting: recordAt(object, 'metadata')?.['deletionTimestamp'] !== undefined });
    }
  }
  return found;
}

async function listAll(client: KubeClient, type: ResourceType, namespace: string | undefined, labelSelector: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let continueToken: string | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const list = await client.request<Record<string, unknown>>('GET', collectionPath(type, namespace), { query: { labelSelector, limit: 500, continue: continueToken } });
    if (Array.isArray(list['items'])) items.push(...list['items']);
    const next = recordAt(list, 'metadata')?.['continue'];
    continueToken = typeof next === 'string' && next !== '' ? next : undefined;
    if (continueToken === undefined) return items;
  }
  return items;
}

/** Outcome of {@link waitForEstablished}. */
export type EstablishedOutcome = { readonly kind: 'established' } | { readonly kind: 'timeout'; readonly message: string };

/**
 * Polls the CustomResourceDefinition `name` until its Established condition is True and discovery
 * serves `apiVersion`/`kind`, or `timeoutMs` passes. Bounded: one GET per `pollMs`.
 */
export async function waitForEstablished(
  client: KubeClient,
  discovery: Discovery,
  clock: Clock,
  crd: { name: string; apiVersion: string; kind: string },
  options: { timeoutMs: number; pollMs: number; isClosed: () => boolean },
): Promise<EstablishedOutcome> {
  const deadline = clock.now() + options.timeoutMs;
  let last = 'not found';
  for (;;) {
    if (options.isClosed()) return { kind: 'timeout', message: 'driver closed' };
    try {
      const object = await client.request<KubeObject>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(crd.name)}`);
      const conditions = recordAt(object, 'status')?.['conditions'];
      const established = Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c['type'] === 'Established' && c['status'] === 'True');
      if (established) {
        discovery.invalidate(crd.apiVersion);
        if ((await discovery.resolve(crd.apiVersion, crd.kind)) !== undefined) return { kind: 'established' };
        last = `Established, but the API server does not serve ${crd.kind} in ${crd.apiVersion} yet`;
      } else {
        last = 'not Established yet';
      }
    } catch (error) {
      if (!(error instanceof KubeApiError) || !error.isTransient) {
        last = error instanceof Error ? error.message : String(error);
        if (!(error instanceof KubeApiError && error.status === 404)) return { kind: 'timeout', message: last };
      }
    }
    if (clock.now() >= deadline) {
      return { kind: 'timeout', message: `CustomResourceDefinition ${crd.name} was ${last} after ${Math.round(options.timeoutMs / 1000)}s` };
    }
    await new Promise<void>((resolve) => clock.setTimer(resolve, options.pollMs));
  }
}
