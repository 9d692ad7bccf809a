import type { Clock, Timer } from '../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../core/backoff.js';
import { CoalescingQueue, type OfferOutcome } from '../core/coalescing-queue.js';
import type { AppSpec, ClusterDriver, DriverResult } from '../driver/cluster-driver.js';
import type { Logger } from '../log.js';

/** One unit of work for the driver: the complete desired state of an App, or its removal. */
export type Work =
  | { readonly kind: 'apply'; readonly spec: AppSpec }
  | { readonly kind: 'remove'; readonly appName: string; readonly generation: bigint; readonly preserveResources: boolean };

/** Settings of {@link ApplyWorker}. */
export interface ApplyWorkerOptions {
  readonly driver: ClusterDriver;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  /** Most driver operations running at once (for different Apps). */
  readonly concurrency: number;
  /** Most Apps waiting at once. */
  readonly maxKeys: number;
  /** Backoff of retryable failures, per App. */
  readonly retry: BackoffOptions;
}

/**
 * Runs driver work from a per-App coalescing queue: at most `concurrency` operations at once, never two
 * for the same App, the newest work for an App replacing older queued work. A retryable failure is
 * tried again after a per-App backoff unless newer work for that App arrives first.
 */
export class ApplyWorker {
  readonly #options: ApplyWorkerOptions;
  readonly #queue: CoalescingQueue<Work>;
  readonly #retryTimers = new Map<string, Timer>();
  readonly #attempts = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  #pumpTimer: Timer | undefined;
  #stopped = false;

  constructor(options: ApplyWorkerOptions) {
    this.#options = options;
    this.#queue = new CoalescingQueue<Work>(options.maxKeys);
  }

  /** True when work for `appName` can be queued now. */
  hasRoomFor(appName: string): boolean {
    return !this.#stopped && this.#queue.hasRoomFor(appName);
  }

  /** True when nothing is queued, running or waiting for a retry. */
  isIdle(): boolean {
    return this.#queue.pendingCount === 0 && this.#running.size === 0 && this.#retryTimers.size === 0;
  }

  /**
   * Queues `work` for its App, superseding queued work and pending retries for that App. The driver is
   * called on a later turn of the event loop, so that the caller's ack leaves before any report.
   */
  enqueue(work: Work): OfferOutcome {
    if (this.#stopped) return 'refused';
    const key = appNameOf(work);
    this.#retryTimers.get(key)?.cancel();
    this.#retryTimers.delete(key);
    this.#attempts.delete(key);
    const outcome = this.#queue.offer(key, work);
    if (outcome !== 'refused') this.#schedulePump();
    return outcome;
  }

  /** Stops taking work, drops queued work and retries, and waits for running operations to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pumpTimer?.cancel();
    this.#pumpTimer = undefined;
    for (const timer of this.#retryTimers.values()) timer.cancel();
    this.#retryTimers.clear();
    this.#queue.clear();
    await Promise.allSettled([...this.#running]);
  }

  #schedulePump(): void {
    if (this.#pumpTimer !== undefined || this.#stopped) return;
    this.#pumpTimer = this.#options.clock.setTimer(() => {
      this.#pumpTimer = undefined;
      this.#pump();
    }, 0);
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#options.concurrency) {
      const next = this.#queue.take();
      if (next === undefined) return;
      const run = this.#run(next.key, next.item).finally(() => {
        this.#running.delete(run);
        this.#queue.complete(next.key);
        this.#pump();
      });
      this.#running.add(run);
    }
  }

  async #run(key: string, work: Work): Promise<void> {
    const { driver, log } = this.#options;
    let result: DriverResult;
    let retryable: boolean;
    try {
      result = work.kind === 'apply' ? await driver.apply(work.spec) : await driver.remove(work.appName, { preserveResources: work.preserveResources });
      retryable = result.kind === 'failed' && result.retryAfterMs !== undefined;
    } catch (error) {
      // A driver should report failures as results; a throw is unexpected, so retry with backoff.
      result = { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
      retryable = true;
    }
    const fields = { app: key, work: work.kind, generation: work.kind === 'apply' ? work.spec.generation : work.generation };
    if (result.kind !== 'failed') {
      this.#attempts.delete(key);
      log.debug(`driver ${work.kind} ${result.kind}`, fields);
      return;
    }
    // Newer work queued while this ran supersedes a retry (retrying later would regress the App).
    if (!retryable || this.#stopped || this.#queue.isPending(key)) {
      this.#attempts.delete(key);
      log.warn(`driver ${work.kind} failed`, { ...fields, error: result.message });
      return;
    }
    const attempt = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, attempt + 1);
    const delayMs = Math.max(result.retryAfterMs ?? 0, nextBackoffMs(attempt, this.#options.random01(), this.#options.retry));
    log.warn(`driver ${work.kind} failed; retrying`, { ...fields, error: result.message, retryInMs: delayMs, attempt: attempt + 1 });
    this.#retryTimers.set(
      key,
      this.#options.clock.setTimer(() => {
        this.#retryTimers.delete(key);
        if (!this.#stopped && !this.#queue.isPending(key) && this.#queue.offer(key, work) !== 'refused') this.#schedulePump();
      }, delayMs),
    );
  }
}

function appNameOf(work: Work): string {
  return work.kind === 'apply' ? work.spec.appName : work.appName;
}
