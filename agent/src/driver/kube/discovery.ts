import type { Clock } from '../../clock.js';
import { isRecord, parseApiVersion, type ObjectRef } from '../../core/kube/object-ref.js';
import { KubeApiError, type KubeClient } from './kube-client.js';

/** A kind as the API server serves it. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name in URLs (`deployments`). */
  readonly resource: string;
  readonly namespaced: boolean;
}

interface CachedGroupVersion {
  readonly fetchedAtMs: number;
  /** Kind → resource; undefined when the group-version is not served at all. */
  readonly kinds: ReadonlyMap<string, ResourceType> | undefined;
}

/**
 * API discovery for the kinds the agent applies, cached per group-version. A miss (a kind the cached
 * list does not have) fetches the group-version again, at most once per `minRefreshMs`, so that a
 * CustomResourceDefinition that appears later is found without a request per lookup. `invalidate`
 * forgets a group-version at once (after the agent applied a CRD for it).
 */
export class Discovery {
  readonly #client: KubeClient;
  readonly #clock: Clock;
  readonly #minRefreshMs: number;
  readonly #cache = new Map<string, CachedGroupVersion>();
  readonly #inFlight = new Map<string, Promise<CachedGroupVersion>>();

  constructor(client: KubeClient, clock: Clock, minRefreshMs = 5_000) {
    this.#client = client;
    this.#clock = clock;
    this.#minRefreshMs = minRefreshMs;
  }

  /**
   * The resource serving `kind` in `apiVersion`, or undefined when the server does not serve it.
   * Throws {@link KubeApiError} when discovery itself fails (the answer is then unknown, not "no").
   */
  async resolve(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    const cached = this.#cache.get(apiVersion);
    const found = cached?.kinds?.get(kind);
    if (found !== undefined) return found;
    if (cached !== undefined && this.#clock.now() - cached.fetchedAtMs < this.#minRefreshMs) return undefined;
    return (await this.#fetch(apiVersion)).kinds?.get(kind);
  }

  /** Forgets what is cached for `apiVersion`, so that the next lookup asks the server. */
  invalidate(apiVersion: string): void {
    this.#cache.delete(apiVersion);
  }

  #fetch(apiVersion: string): Promise<CachedGroupVersion> {
    const running = this.#inFlight.get(apiVersion);
    if (running !== undefined) return running;
    const fetching = this.#load(apiVersion).finally(() => this.#inFlight.delete(apiVersion));
    this.#inFlight.set(apiVersion, fetching);
    return fetching;
  }

  async #load(apiVersion: string): Promise<CachedGroupVersion> {
    const parsed = parseApiVersion(apiVersion);
    if (parsed === undefined) return { fetchedAtMs: this.#clock.now(), kinds: undefined };
    const path = parsed.group === '' ? `/api/${parsed.version}` : `/apis/${parsed.group}/${parsed.version}`;
    let list: unknown;
    try {
      list = await this.#client.request('GET', path);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        const entry = { fetchedAtMs: this.#clock.now(), kinds: undefined };
        this.#cache.set(apiVersion, entry);
        return entry;
      }
      throw error;
    }
    const kinds = new Map<string, ResourceType>();
    const resources = isRecord(list) && Array.isArray(list['resources']) ? list['resources'] : [];
    for (const resource of resources) {
      if (!isRecord(resource) || typeof resource['name'] !== 'string' || typeof resource['kind'] !== 'string') continue;
      // Subresources (`deployments/scale`) share the kind of their parent; skip them.
      if (resource['name'].includes('/')) continue;
      if (kinds.has(resource['kind'])) continue;
      kinds.set(resource['kind'], {
        apiVersion,
        group: parsed.group,
        version: parsed.version,
        kind: resource['kind'],
        resource: resource['name'],
        namespaced: resource['namespaced'] === true,
      });
    }
    const entry = { fetchedAtMs: this.#clock.now(), kinds };
    this.#cache.set(apiVersion, entry);
    return entry;
  }
}

/** URL path of a collection: `/apis/apps/v1/namespaces/shop/deployments`, or cluster-wide without `namespace`. */
export function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const root = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const scope = type.namespaced && namespace !== undefined && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${scope}/${type.resource}`;
}

/** URL path of one object. */
export function objectPath(type: ResourceType, ref: Pick<ObjectRef, 'namespace' | 'name'>): string {
  return `${collectionPath(type, type.namespaced ? ref.namespace : undefined)}/${encodeURIComponent(ref.name)}`;
}
