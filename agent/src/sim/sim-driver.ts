import { DriftPolicy, Health, SyncMode, SyncStatus, checkCapabilities } from '@flotilla/proto';
import type { Clock, Timer } from '../clock.js';
import { findMatchingPattern } from '../core/app-pattern.js';
import type { Manifest } from '../core/desired-state.js';
import { aggregateHealth, compareResources, type ResourceHealth } from '../core/health/index.js';
import { describeDrift } from '../core/kube/app-status.js';
import { parseApiVersion } from '../core/kube/object-ref.js';
import { checkScopes, describeScopeRefusals, type Scoped } from '../core/kube/scope.js';
import { referencedSecrets, referencesOutsideScope, resolveSecretReferences, sourceKey, type SecretSources } from '../core/kube/secret-references.js';
import type { SimDriftRule } from '../core/sim-drift.js';
import type { AppSpec, AppStatus, ClusterDriver, DriverCapabilities, DriverResult, RemoveOptions, StatusListener } from '../driver/cluster-driver.js';
import { driftOfObject, editLiveObjects, simObjectKey as objectKey } from './sim-drift.js';

/** Settings of {@link SimDriver}. */
export interface SimDriverOptions {
  /** Milliseconds from apply until the App settles HEALTHY (or DEGRADED). */
  readonly healthyAfterMs: number;
  /** App names or `*` globs that settle DEGRADED instead of HEALTHY. */
  readonly failApps: readonly string[];
  readonly clock: Clock;
  /** The Kubernetes version the simulated cluster reports (default {@link SIM_KUBERNETES_VERSION}). */
  readonly kubernetesVersion?: string;
  /**
   * Out-of-band edits made to an App's live objects once it settles (FLOTILLA_SIM_DRIFT), reported as
   * drift; under the heal policy undone `healthyAfterMs` later.
   */
  readonly drift?: readonly SimDriftRule[];
}

/** The version a simulated cluster reports unless told otherwise. */
export const SIM_KUBERNETES_VERSION = 'v1.35.0';

/** What a simulated cluster serves: the core built-in group/versions and kinds charts commonly test for. */
const SIM_API_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  v1: ['ConfigMap', 'Endpoints', 'Event', 'LimitRange', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'Pod', 'PodTemplate', 'ReplicationController', 'ResourceQuota', 'Secret', 'Service', 'ServiceAccount'],
  'admissionregistration.k8s.io/v1': ['MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration'],
  'apiextensions.k8s.io/v1': ['CustomResourceDefinition'],
  'apps/v1': ['ControllerRevision', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'],
  'autoscaling/v1': ['HorizontalPodAutoscaler'],
  'autoscaling/v2': ['HorizontalPodAutoscaler'],
  'batch/v1': ['CronJob', 'Job'],
  'coordination.k8s.io/v1': ['Lease'],
  'discovery.k8s.io/v1': ['EndpointSlice'],
  'networking.k8s.io/v1': ['IngressClass', 'Ingress', 'NetworkPolicy'],
  'node.k8s.io/v1': ['RuntimeClass'],
  'policy/v1': ['PodDisruptionBudget'],
  'rbac.authorization.k8s.io/v1': ['ClusterRoleBinding', 'ClusterRole', 'RoleBinding', 'Role'],
  'scheduling.k8s.io/v1': ['PriorityClass'],
  'storage.k8s.io/v1': ['CSIDriver', 'CSINode', 'CSIStorageCapacity', 'StorageClass', 'VolumeAttachment'],
};

/** One object held by the simulated cluster. */
export interface SimObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly manifest: Manifest;
  /** The manifest before secret references were resolved into it; absent when it held none. */
  readonly declared?: Manifest;
}

interface SimApp {
  spec: AppSpec;
  objects: Map<string, SimObject>;
  /** The objects the applied revision declares (a subset of `objects` unless create-only kept old ones). */
  desired: SimObject[];
  status: AppStatus;
  settleTimer: Timer | undefined;
  /** The heal of a simulated edit, under the heal drift policy. */
  healTimer: Timer | undefined;
  /** Values the App's secret references resolved to: never reported as drift values. */
  secretValues: readonly string[];
}

// Kinds that live outside namespaces; every other kind gets the App's namespace when it names none.
const CLUSTER_SCOPED_KINDS = new Set([
  'APIService',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'RuntimeClass',
  'StorageClass',
  'ValidatingWebhookConfiguration',
]);

/**
 * A simulated cluster that keeps objects in memory. After an apply, an App is PROGRESSING (sync
 * APPLYING, then SYNCED) and settles `healthyAfterMs` later: HEALTHY, or DEGRADED when its name
 * matches a `failApps` pattern. Sync modes behave as on a cluster: create-only keeps existing objects
 * untouched, create-update never prunes, sync prunes objects that are no longer desired. The scope guard
 * is the Kubernetes driver's: an App with an object outside its own or its project's scope is refused
 * whole and nothing of it is applied (objects count as cluster-scoped by a fixed list of kinds).
 * Drift happens only when asked for (`drift` rules): once an App settles, matching fields of its live
 * objects are edited and reported drifted (OUT_OF_SYNC, with paths and values) as the Kubernetes
 * driver reports them; under the heal policy the edit is undone later and the drift clears.
 */
export class SimDriver implements ClusterDriver {
  readonly #apps = new Map<string, SimApp>();
  readonly #listeners = new Set<StatusListener>();
  readonly #options: SimDriverOptions;
  #closed = false;

  constructor(options: SimDriverOptions) {
    this.#options = options;
  }

  async apply(spec: AppSpec): Promise<DriverResult> {
    if (this.#closed) return { kind: 'failed', message: 'driver is closed' };
    const current = this.#apps.get(spec.appName);
    if (current !== undefined && isSameRelease(current.spec, spec)) {
      if (current.spec.generation !== spec.generation) {
        current.spec = spec;
        this.#publish(current, { ...current.status, generation: spec.generation });
      }
      return { kind: 'unchanged' };
    }

    const admitted = admittedObjectsOf(spec);
    const desired = admitted.ok ? this.#resolveSecrets(spec, admitted.objects) : admitted;
    if (!desired.ok) {
      const app = current ?? this.#track(spec);
      app.settleTimer?.cancel();
      app.healTimer?.cancel();
      app.spec = spec;
      this.#publish(app, this.#statusOf(spec, Health.DEGRADED, SyncStatus.FAILED, desired.error, []));
      return { kind: 'failed', message: desired.error };
    }

    const app = current ?? this.#track(spec);
    app.settleTimer?.cancel();
    app.healTimer?.cancel();
    app.spec = spec;
    app.secretValues = desired.secretValues ?? [];
    const progressing = resourcesOf(desired.objects, Health.PROGRESSING, '');
    this.#publish(app, this.#statusOf(spec, Health.PROGRESSING, SyncStatus.APPLYING, '', progressing));
    app.objects = mergeObjects(app.objects, desired.objects, spec.syncPolicy.mode);
    app.desired = desired.objects.map((object) => app.objects.get(objectKey(object)) ?? object);
    this.#publish(app, this.#statusOf(spec, Health.PROGRESSING, SyncStatus.SYNCED, '', progressing));
    app.settleTimer = this.#options.clock.setTimer(() => this.#settle(spec.appName, spec.revision), this.#options.healthyAfterMs);
    return { kind: 'done' };
  }

  async remove(appName: string, _options: RemoveOptions): Promise<DriverResult> {
    if (this.#closed) return { kind: 'failed', message: 'driver is closed' };
    const app = this.#apps.get(appName);
    if (app === undefined) return { kind: 'unchanged' };
    // Preserved objects would stay in a real cluster unmanaged; the simulation simply forgets them.
    app.settleTimer?.cancel();
    app.healTimer?.cancel();
    this.#apps.delete(appName);
    return { kind: 'done' };
  }

  status(appName: string): AppStatus | undefined {
    return this.#apps.get(appName)?.status;
  }

  /** The objects the simulated cluster holds for an App, sorted by kind, namespace and name. */
  objects(appName: string): readonly SimObject[] {
    const objects = [...(this.#apps.get(appName)?.objects.values() ?? [])];
    return objects.sort((a, b) => compareKey(objectKey(a), objectKey(b)));
  }

  onStatusChange(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The configured version and a fixed list of built-in kinds (a simulated cluster has no discovery). */
  async capabilities(): Promise<DriverCapabilities> {
    const apiVersions = Object.entries(SIM_API_RESOURCES).flatMap(([groupVersion, kinds]) => [groupVersion, ...kinds.map((kind) => `${groupVersion}/${kind}`)]);
    const check = checkCapabilities(this.#options.kubernetesVersion ?? SIM_KUBERNETES_VERSION, apiVersions);
    return check.ok ? { ...check.capabilities, discoveryError: '' } : { kubernetesVersion: '', apiVersions: [], discoveryError: check.problem };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const app of this.#apps.values()) {
      app.settleTimer?.cancel();
      app.healTimer?.cancel();
    }
    this.#listeners.clear();
  }

  /**
   * Secret references resolved as the Kubernetes driver does, against the Secrets this simulated
   * cluster holds (those that Apps applied): refused whole when one is missing or out of scope.
   */
  #resolveSecrets(spec: AppSpec, objects: SimObject[]): ObjectsResult {
    const references = referencedSecrets(objects.map((o) => o.manifest));
    if (references.length === 0) return { ok: true, objects };
    const outside = referencesOutsideScope(references, { app: spec.syncPolicy.scope, project: spec.syncPolicy.projectScope }, spec.namespace);
    if (outside.length > 0) return { ok: false, error: `refused: ${outside.join('; ')}` };
    const held = new Map<string, Readonly<Record<string, string>>>();
    for (const app of this.#apps.values()) {
      for (const object of app.objects.values()) if (object.kind === 'Secret' && object.apiVersion === 'v1') held.set(`${object.namespace}/${object.name}`, secretData(object.manifest));
    }
    const sources: SecretSources = new Map(references.map((r) => [sourceKey(r), held.get(sourceKey(r))]));
    const resolved = resolveSecretReferences(objects.map((o) => o.manifest), sources);
    if (!resolved.ok) return { ok: false, error: resolved.problems.join('; ') };
    return {
      ok: true,
      objects: objects.map((object, i) => {
        const manifest = resolved.bodies[i]! as Manifest;
        return manifest === object.manifest ? object : { ...object, manifest, declared: object.manifest };
      }),
      secretValues: resolved.values,
    };
  }

  #track(spec: AppSpec): SimApp {
    const app: SimApp = {
      spec,
      objects: new Map(),
      desired: [],
      status: this.#statusOf(spec, Health.UNKNOWN, SyncStatus.OUT_OF_SYNC, '', []),
      settleTimer: undefined,
      healTimer: undefined,
      secretValues: [],
    };
    this.#apps.set(spec.appName, app);
    return app;
  }

  #settle(appName: string, revision: string): void {
    const app = this.#apps.get(appName);
    if (app === undefined || app.spec.revision !== revision || this.#closed) return;
    app.settleTimer = undefined;
    this.#publishJudged(app, undefined);
    // The out-of-band edit comes once the App settled. As on a cluster, objects left alone by
    // create-only are never checked for drift.
    const rules = app.spec.syncPolicy.mode === SyncMode.CREATE_ONLY ? [] : (this.#options.drift ?? []);
    const edited = editLiveObjects(appName, app.desired, app.objects, rules);
    if (edited === undefined) return;
    app.objects = edited;
    const healing = app.spec.syncPolicy.drift === DriftPolicy.HEAL;
    this.#publishJudged(app, healing ? 'healing' : undefined);
    if (!healing) return;
    app.healTimer = this.#options.clock.setTimer(() => {
      app.healTimer = undefined;
      if (this.#apps.get(appName) !== app || app.spec.revision !== revision || this.#closed) return;
      // A heal is a forced apply: the applied objects replace their edited live copies.
      app.objects = new Map(app.objects);
      for (const object of app.desired) app.objects.set(objectKey(object), object);
      this.#publishJudged(app, undefined);
    }, this.#options.healthyAfterMs);
  }

  /** The settled status: HEALTHY (or DEGRADED by a failure pattern), with drift judged object by object. */
  #publishJudged(app: SimApp, driftNote: string | undefined): void {
    const resources = app.desired
      .map((object): ResourceHealth => {
        const base = resourcesOf([object], Health.HEALTHY, '')[0]!;
        const drift = driftOfObject(object, app.objects.get(objectKey(object)), app.secretValues);
        return drift === undefined ? base : { ...base, message: driftNote ?? '', drifted: true, driftedFields: drift.fields, driftedValues: drift.values };
      })
      .sort(compareResources);
    const syncStatus = resources.some((resource) => resource.drifted) ? SyncStatus.OUT_OF_SYNC : SyncStatus.SYNCED;
    const pattern = findMatchingPattern(app.spec.appName, this.#options.failApps);
    if (pattern === undefined) {
      this.#publish(app, this.#statusOf(app.spec, aggregateHealth(resources.map((r) => r.health)), syncStatus, describeDrift(resources), resources));
      return;
    }
    const message = `simulated failure: App matches FLOTILLA_SIM_FAIL_APPS pattern ${JSON.stringify(pattern)}`;
    const failed = resources.map((resource, index) => (index === 0 ? { ...resource, health: Health.DEGRADED, message } : resource));
    this.#publish(app, this.#statusOf(app.spec, Health.DEGRADED, syncStatus, message, failed));
  }

  #statusOf(spec: AppSpec, health: Health, syncStatus: SyncStatus, message: string, resources: ResourceHealth[]): AppStatus {
    return {
      appName: spec.appName,
      revision: spec.revision,
      generation: spec.generation,
      health,
      syncStatus,
      message,
      resources,
      observedAtUnixMs: this.#options.clock.now(),
    };
  }

  #publish(app: SimApp, status: AppStatus): void {
    app.status = status;
    for (const listener of [...this.#listeners]) {
      try {
        listener(status);
      } catch {
        // A listener's failure is its own; the simulated cluster keeps going for the others.
      }
    }
  }
}

type ObjectsResult = { readonly ok: true; readonly objects: SimObject[]; readonly secretValues?: readonly string[] } | { readonly ok: false; readonly error: string };

function objectsOf(spec: AppSpec): ObjectsResult {
  const objects: SimObject[] = [];
  for (const [index, manifest] of spec.manifests.entries()) {
    const metadata = isRecord(manifest['metadata']) ? manifest['metadata'] : {};
    const kind = manifest['kind'];
    const name = metadata['name'];
    if (typeof kind !== 'string' || kind === '' || typeof name !== 'string' || name === '') {
      return { ok: false, error: `manifests[${index}] needs a kind and metadata.name` };
    }
    const declared = metadata['namespace'];
    const namespace =
      typeof declared === 'string' && declared !== '' ? declared : CLUSTER_SCOPED_KINDS.has(kind) ? '' : spec.namespace;
    const apiVersion = typeof manifest['apiVersion'] === 'string' ? manifest['apiVersion'] : '';
    objects.push({ apiVersion, kind, namespace, name, manifest });
  }
  // An object declared twice is one object; the later declaration wins, as a second apply would.
  return { ok: true, objects: [...new Map(objects.map((object) => [objectKey(object), object])).values()] };
}

/** The objects of a revision, or why it is refused whole: malformed manifests, or objects outside a scope. */
function admittedObjectsOf(spec: AppSpec): ObjectsResult {
  const desired = objectsOf(spec);
  if (!desired.ok) return desired;
  const refusals = checkScopes(desired.objects.map(scopedOf), { app: spec.syncPolicy.scope, project: spec.syncPolicy.projectScope }, spec.namespace);
  return refusals.length > 0 ? { ok: false, error: describeScopeRefusals(refusals) } : desired;
}

/** A Secret's data as the API serves it: `data` as is, `stringData` merged in as base64. */
function secretData(manifest: Manifest): Record<string, string> {
  const out: Record<string, string> = {};
  const data = manifest['data'];
  const text = manifest['stringData'];
  if (isRecord(data)) for (const [key, value] of Object.entries(data)) if (typeof value === 'string') out[key] = value;
  if (isRecord(text)) for (const [key, value] of Object.entries(text)) if (typeof value === 'string') out[key] = Buffer.from(value, 'utf8').toString('base64');
  return out;
}

function scopedOf(object: SimObject): Scoped {
  const { group, version } = parseApiVersion(object.apiVersion) ?? { group: '', version: '' };
  return {
    ref: { apiVersion: object.apiVersion, group, version, kind: object.kind, namespace: object.namespace, name: object.name },
    namespaced: object.namespace !== '',
  };
}

// A new generation of the same revision changes nothing on the cluster, unless what decides the scope
// check changed: a narrower or wider scope must refuse or admit the revision anew.
function isSameRelease(held: AppSpec, incoming: AppSpec): boolean {
  return (
    held.revision === incoming.revision &&
    held.namespace === incoming.namespace &&
    JSON.stringify([held.syncPolicy.scope, held.syncPolicy.projectScope]) === JSON.stringify([incoming.syncPolicy.scope, incoming.syncPolicy.projectScope])
  );
}

function mergeObjects(live: ReadonlyMap<string, SimObject>, desired: readonly SimObject[], mode: SyncMode): Map<string, SimObject> {
  const merged = new Map(mode === SyncMode.SYNC ? [] : live);
  for (const object of desired) {
    const key = objectKey(object);
    const existing = live.get(key);
    merged.set(key, mode === SyncMode.CREATE_ONLY && existing !== undefined ? existing : object);
  }
  return merged;
}

function resourcesOf(objects: readonly SimObject[], health: Health, message: string): ResourceHealth[] {
  return objects
    .map((object) => ({
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      health,
      message,
      drifted: false,
    }))
    .sort(compareResources);
}

function compareKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
