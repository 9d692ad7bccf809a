import type { Clock, Timer } from '../../src/clock.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** A clock that moves only when a test calls `advance`; timers fire in time order, ties in set order. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #scheduled: Scheduled[] = [];

  constructor(startUnixMs = 1_700_000_000_000) {
    this.#now = startUnixMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const entry: Scheduled = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false };
    this.#scheduled.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.#scheduled.filter((entry) => !entry.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, including ones set by callbacks. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let fired = 0; fired < 100_000; fired += 1) {
      const next = this.#scheduled
        .filter((entry) => !entry.cancelled && entry.at <= until)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      next.cancelled = true;
      this.#now = next.at;
      next.callback();
    }
    this.#now = until;
  }
}
