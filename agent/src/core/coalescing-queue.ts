/** What {@link CoalescingQueue.offer} did with an item. */
export type OfferOutcome = 'queued' | 'replaced' | 'refused';

/** An item handed out by {@link CoalescingQueue.take}. */
export interface QueuedWork<T> {
  readonly key: string;
  readonly item: T;
}

/**
 * A work queue keyed by App name that keeps only the newest item per key.
 *
 * - Offering an item for a key that is already queued replaces the queued item in place (the key keeps
 *   its turn); nothing is ever dropped oldest-first.
 * - A key handed out by `take` is in flight until `complete`; while in flight, a newer item for it
 *   waits in the queue, so one App is never worked on twice at the same time.
 * - At most `maxKeys` keys wait at once; an offer for one more key is `refused` (the caller decides
 *   how to push back), never silently dropped.
 *
 * Pure data structure: no timers, no I/O. Keys are served in the order they were first queued.
 */
export class CoalescingQueue<T> {
  readonly #pending = new Map<string, T>();
  readonly #inFlight = new Set<string>();
  readonly #maxKeys: number;

  /** @param maxKeys most keys waiting at once; a positive integer. */
  constructor(maxKeys: number) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
    this.#maxKeys = maxKeys;
  }

  /** Number of keys waiting (in flight ones not counted). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Number of keys handed out and not yet completed. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** True when an offer for `key` would not be refused. */
  hasRoomFor(key: string): boolean {
    return this.#pending.has(key) || this.#pending.size < this.#maxKeys;
  }

  /** True when an item for `key` is waiting. */
  isPending(key: string): boolean {
    return this.#pending.has(key);
  }

  /** Queues `item` for `key`, replacing a waiting item for the same key. */
  offer(key: string, item: T): OfferOutcome {
    if (this.#pending.has(key)) {
      this.#pending.set(key, item);
      return 'replaced';
    }
    if (this.#pending.size >= this.#maxKeys) return 'refused';
    this.#pending.set(key, item);
    return 'queued';
  }

  /** Hands out the longest-waiting item whose key is not in flight, and marks that key in flight. */
  take(): QueuedWork<T> | undefined {
    for (const [key, item] of this.#pending) {
      if (this.#inFlight.has(key)) continue;
      this.#pending.delete(key);
      this.#inFlight.add(key);
      return { key, item };
    }
    return undefined;
  }

  /** Marks `key` as no longer in flight, so that a newer item for it can be taken. */
  complete(key: string): void {
    this.#inFlight.delete(key);
  }

  /** Drops every waiting item (in-flight keys stay in flight until completed). Returns how many. */
  clear(): number {
    const dropped = this.#pending.size;
    this.#pending.clear();
    return dropped;
  }
}
