/** A scheduled callback that can be cancelled. Cancelling twice, or after it ran, does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as the agent's services see it: the current time and one-shot timers. Injected everywhere so
 * that tests drive time by hand instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs` milliseconds, unless cancelled first. */
  setTimer(callback: () => void, delayMs: number): Timer;
}

/** The real clock: `Date.now()` and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};
