import type { Clock, Timer } from '../../clock.js';
import type { BackoffOptions } from '../../core/backoff.js';
import type { AppPhase, ObjectState } from '../../core/kube/app-status.js';
import type { DesiredObject } from '../../core/kube/desired-objects.js';
import type { DriftedValue } from '../../core/kube/drift-values.js';
import type { DriftedField } from '../../core/kube/field-diff.js';
import { DEFAULT_HEAL_TUNING, type HealState, type HealTuning } from '../../core/kube/heal.js';
import type { KubeObject } from '../../core/kube/object-ref.js';
import type { Logger } from '../../log.js';
import type { AppSpec, AppStatus } from '../cluster-driver.js';
import type { Discovery, ResourceType } from './discovery.js';
import type { EndpointWatches } from './endpoint-watches.js';
import type { KubeInventory } from './inventory.js';
import type { KubeClient } from './kube-client.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './resource-watch.js';
import type { WatchSet } from './watch-set.js';

/** What the driver knows of drift on one object. */
export interface DriftRecord {
  readonly fields: readonly DriftedField[];
  /** What the drifted fields hold on each side, secret ones redacted (same order as `fields`). */
  readonly values: readonly DriftedValue[];
  /** Other managers owning the drifted fields now. */
  readonly managers: readonly string[];
  /** The object is gone from the cluster. */
  readonly deleted: boolean;
  /** Healing, fighting, or why a heal failed. */
  readonly note: string | undefined;
}

/** One object of the applied revision. */
export interface TrackedObject {
  readonly desired: DesiredObject;
  type: ResourceType | undefined;
  state: ObjectState;
  /** What the server made of the applied configuration (the apply's answer or the latest dry run). */
  expected: KubeObject | undefined;
  /** The newest live object known (apply answer, watch event or read); undefined when gone. */
  live: KubeObject | undefined;
  /** Left alone by create-only because it existed: never updated, so never checked for drift. */
  createOnly: boolean;
  drift: DriftRecord | undefined;
  heal: HealState;
  /** A scheduled drift check or heal. */
  timer: Timer | undefined;
  checking: boolean;
  /** Another check was asked for while one ran. */
  recheck: boolean;
  /** Consecutive failed drift checks (they back off). */
  failures: number;
}

/** One App the driver manages. */
export interface TrackedApp {
  spec: AppSpec;
  /** The objects of the applied revision, by object key, in apply order. */
  objects: Map<string, TrackedObject>;
  phase: AppPhase;
  /** The revision was applied (and pruned) completely under the current policy. */
  complete: boolean;
  /** Extra words for the status message (objects kept by the sync mode, a prune failure...). */
  note: string;
  status: AppStatus;
  fingerprint: string;
  /** An apply or remove is running: drift checks and heals wait. */
  busy: boolean;
  /** Values the applied revision's secret references resolved to: never sent in a drift report. */
  secretValues: readonly string[];
}

/** Timings of the Kubernetes driver; tests shorten them. */
export interface KubeDriverTuning {
  /** Longest wait for an App's CustomResourceDefinition to be Established. */
  readonly crdEstablishTimeoutMs: number;
  readonly crdPollMs: number;
  /** Delay between a change to a managed object and the drift check it causes (coalesces bursts). */
  readonly driftDebounceMs: number;
  /** Backoff of drift checks and heals that fail. */
  readonly driftRetry: BackoffOptions;
  /** Period of re-judging Apps that are not healthy (time-based rules such as progress deadlines). */
  readonly healthRecheckMs: number;
  /** Retry delay asked of the caller after an unreachable API server. */
  readonly transientRetryMs: number;
  /** Retry delay asked of the caller after a field conflict. */
  readonly conflictRetryMs: number;
  /**
   * Retry delay asked of the caller after a failure the cluster or an operator may fix: a kind not
   * served yet (another App may install its CRD), RBAC, an admission webhook's refusal.
   */
  readonly fixableRetryMs: number;
  /** Least time between two discovery refreshes of one group-version. */
  readonly discoveryRefreshMs: number;
  /** Longest wait for one hook (a `flotilla.dev/phase` object) to succeed or fail; past it the hook failed. */
  readonly hookTimeoutMs: number;
  /** Period of reading a hook's live object while waiting for it. */
  readonly hookPollMs: number;
  readonly watch: WatchTuning;
  readonly heal: HealTuning;
}

/** Production timings. */
export const DEFAULT_DRIVER_TUNING: KubeDriverTuning = {
  crdEstablishTimeoutMs: 60_000,
  crdPollMs: 500,
  driftDebounceMs: 1_000,
  driftRetry: { baseMs: 2_000, maxMs: 60_000 },
  healthRecheckMs: 15_000,
  transientRetryMs: 5_000,
  conflictRetryMs: 60_000,
  fixableRetryMs: 30_000,
  discoveryRefreshMs: 5_000,
  hookTimeoutMs: 300_000,
  hookPollMs: 1_000,
  watch: DEFAULT_WATCH_TUNING,
  heal: DEFAULT_HEAL_TUNING,
};

/** What the apply and drift code needs from the driver. */
export interface DriverContext {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly watches: WatchSet;
  /** Ready endpoints of the Services the Apps' webhook configurations call. */
  readonly endpoints: EndpointWatches;
  readonly inventory: KubeInventory;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly tuning: KubeDriverTuning;
  /** Every App the driver manages. */
  readonly apps: ReadonlyMap<string, TrackedApp>;
  isClosed(): boolean;
  /** Recomputes the App's status and tells listeners when it changed. */
  publish(app: TrackedApp): void;
}
