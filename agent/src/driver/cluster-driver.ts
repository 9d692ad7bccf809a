import type { Manifest, SyncPolicySpec } from '../core/desired-state.js';
import type { ReportInput } from '../core/health/index.js';

/**
 * The cluster driver port: how the agent changes and observes one cluster. Two implementations:
 * `sim` (in memory, for demos and scale tests) and `kube` (server-side apply, prune by owner label,
 * watch-based health and drift; driver/kube). Everything else in the agent sees only this file.
 */

/** One App to apply: a complete, verified desired state. */
export interface AppSpec {
  readonly appName: string;
  readonly appSet: string;
  /** Verified content hash of `manifests`. Statuses name it. */
  readonly revision: string;
  /** The release generation; statuses echo it so that a Report names the release it judged. */
  readonly generation: bigint;
  /** Namespace for namespaced objects that name none. */
  readonly namespace: string;
  readonly manifests: readonly Manifest[];
  /** Mode decides create/update/prune; drift decides report vs heal; preserve applies to removal. */
  readonly syncPolicy: SyncPolicySpec;
}

/** Options of {@link ClusterDriver.remove}. */
export interface RemoveOptions {
  /** Stop managing the App but leave its objects in the cluster. */
  readonly preserveResources: boolean;
}

/**
 * Outcome of an apply or remove. A driver reports cluster-side failures here (and in the App's
 * status) rather than by throwing; `retryAfterMs` asks the caller to try the same work again later
 * (for example after a conflict or an unreachable API server) unless newer work arrives first.
 */
export type DriverResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'failed'; readonly message: string; readonly retryAfterMs?: number };

/**
 * The driver's current judgement of one App: exactly what a Report carries before bounding. Always names
 * the revision (and generation) it judged.
 */
export type AppStatus = ReportInput;

/**
 * What the cluster's API server serves, for Hello (the wire's ClusterCapabilities): its version and
 * the group/versions and group/version/kinds, as `helm template --api-versions` takes them. When
 * discovery fails, or finds more than the protocol's caps, `discoveryError` says why and the lists are
 * empty.
 */
export interface DriverCapabilities {
  readonly kubernetesVersion: string;
  readonly apiVersions: readonly string[];
  readonly discoveryError: string;
}

/** Called with the new status of an App whenever the driver's judgement of it changes. */
export type StatusListener = (status: AppStatus) => void;

/**
 * A cluster the agent manages. Contract:
 * - `apply` is idempotent: applying the revision already applied returns `unchanged` (a newer
 *   generation of the same revision only updates the generation statuses name).
 * - The caller never runs two operations for the same App at once; different Apps may run concurrently.
 * - After `apply` resolves, `status(appName)` names the applied revision; later changes (health,
 *   drift, sync) arrive through `onStatusChange` listeners, called synchronously and in order.
 * - After `remove` resolves, `status(appName)` is `undefined`.
 * - `close` stops every timer and watch; afterwards apply/remove return `failed` without retry.
 */
export interface ClusterDriver {
  apply(app: AppSpec): Promise<DriverResult>;
  remove(appName: string, options: RemoveOptions): Promise<DriverResult>;
  status(appName: string): AppStatus | undefined;
  /** Registers a listener; returns the function that unregisters it. */
  onStatusChange(listener: StatusListener): () => void;
  /** The cluster's capabilities from discovery; never throws (a failure is `discoveryError`). Optional: a driver without it reports none. */
  capabilities?(): Promise<DriverCapabilities>;
  close(): Promise<void>;
}
