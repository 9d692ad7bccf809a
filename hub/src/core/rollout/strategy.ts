import type { LabelSelector } from '../app-set/app-set-spec';

/** A count (`3`) or a share of the wave (`"25%"`, rounded up, at least 1 for concurrency). */
export type CountOrPercent = number | string;

/** One wave as the user writes it. Durations are strings like `30s`, `5m`, `1h`. */
export interface WaveSpec {
  readonly name: string;
  readonly selector?: LabelSelector;
  readonly maxConcurrency?: CountOrPercent;
  readonly maxFailures?: CountOrPercent;
  readonly soak?: string;
  readonly progressDeadline?: string;
  readonly approval?: boolean;
}

/** Shorthand: one wave per value of a label, optionally after a canary wave. */
export interface ByLabelSpec {
  readonly label: string;
  /** Label values first, in this order; the other values follow sorted; clusters without the label last. */
  readonly order?: readonly string[];
  /**
   * A first wave of `perGroup` clusters (default 1) from each group, connected clusters first. Its
   * `maxConcurrency` defaults to the one of `byLabel` (so `maxConcurrency: 1` holds for the canary too).
   */
  readonly canary?: { readonly perGroup?: number; readonly soak?: string; readonly approval?: boolean; readonly maxConcurrency?: CountOrPercent };
  readonly maxConcurrency?: CountOrPercent;
  readonly maxFailures?: CountOrPercent;
  readonly soak?: string;
  readonly progressDeadline?: string;
  readonly approval?: boolean;
}

export type OfflinePolicy = 'skip' | 'wait' | 'block';
/**
 * What a breached failure budget does: `pause` (resumable), `rollback` (re-release what each released
 * cluster had; phase ROLLED_BACK), or `fail` (stop for good, released clusters keep the new revision;
 * phase FAILED).
 */
export type FailurePolicy = 'pause' | 'rollback' | 'fail';
/** What starts a rollout: `manual` (startRollout only) or `auto` (every new staged revision too). */
export type RolloutTrigger = 'manual' | 'auto';

/** How a rollout moves across the fleet. Exactly one of `waves` or `byLabel`; neither means the default. */
export interface RolloutStrategy {
  readonly waves?: readonly WaveSpec[];
  readonly byLabel?: ByLabelSpec;
  /** What to do with a cluster whose agent is offline when its turn comes. Default `wait`. */
  readonly offlineClusters?: OfflinePolicy;
  /** With `wait`: how long an offline cluster is waited for before it is skipped. Default `10m`. */
  readonly offlineDeadline?: string;
  /** What a breached failure budget does. Default `pause`. */
  readonly onFailure?: FailurePolicy;
  /** Whether a new staged revision starts a rollout by itself. Default `manual`. */
  readonly trigger?: RolloutTrigger;
}

/**
 * The strategy used when an AppSet names none: a canary wave of one cluster per `region` (connected
 * clusters preferred, all at once), then one wave per `region` label value, at most 25 % of a wave in
 * flight, no failure tolerated, 30 s of soak, a 10 minute progress deadline per cluster, offline
 * clusters waited for 10 minutes, pause on failure.
 */
export const DEFAULT_STRATEGY: RolloutStrategy = {
  byLabel: {
    label: 'region',
    canary: { perGroup: 1, maxConcurrency: '100%' },
    maxConcurrency: '25%',
    maxFailures: 0,
    soak: '30s',
    progressDeadline: '10m',
  },
  offlineClusters: 'wait',
  offlineDeadline: '10m',
  onFailure: 'pause',
};
