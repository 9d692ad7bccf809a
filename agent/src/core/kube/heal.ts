import { DriftPolicy } from '@flotilla/proto';
import { nextBackoffMs, type BackoffOptions } from '../backoff.js';

/**
 * When to heal a drifted object, and when to stop: if the same object drifts again and again after
 * heals (another controller keeps setting the fields back), healing would flap forever and hammer the
 * API server. After `maxHeals` heals within `windowMs` the agent declares a fight, reports it with the
 * other manager's name, and stays quiet for a growing back-off before it tries one heal again.
 */

/** Tuning of {@link decideHeal}. */
export interface HealTuning {
  /** Window over which heals are counted. */
  readonly windowMs: number;
  /** Heals allowed within the window; the next drift is a fight. At least 1. */
  readonly maxHeals: number;
  /** Delay before a heal; grows with the number of heals in the window. */
  readonly healBackoff: BackoffOptions;
  /** Quiet period after a fight; grows with consecutive fights. */
  readonly fightBackoff: BackoffOptions;
}

/** Defaults of {@link HealTuning}: at most 3 heals per 5 minutes, then 5 minutes to 1 hour of quiet. */
export const DEFAULT_HEAL_TUNING: HealTuning = {
  windowMs: 5 * 60_000,
  maxHeals: 3,
  healBackoff: { baseMs: 2_000, maxMs: 60_000 },
  fightBackoff: { baseMs: 5 * 60_000, maxMs: 60 * 60_000 },
};

/** What the agent remembers about healing one object. Start from {@link INITIAL_HEAL_STATE}. */
export interface HealState {
  /** Times of recent heals, oldest first (only those within the window matter). */
  readonly healsAtMs: readonly number[];
  /** Consecutive fights declared; 0 when calm. */
  readonly fights: number;
  /** No heal before this time (set by a fight). */
  readonly quietUntilMs: number | undefined;
}

/** A calm object that was never healed. */
export const INITIAL_HEAL_STATE: HealState = { healsAtMs: [], fights: 0, quietUntilMs: undefined };

/**
 * The decision about a drifted object. `report`: the policy is report, do nothing but report.
 * `heal`: re-apply at `atMs`. `fight`: another manager keeps changing the object back; report it and
 * try again no earlier than `retryAtMs`.
 */
export type HealDecision =
  | { readonly kind: 'report' }
  | { readonly kind: 'heal'; readonly atMs: number }
  | { readonly kind: 'fight'; readonly retryAtMs: number; readonly healsInWindow: number };

/**
 * Decides about an object found drifted at `nowMs`, returning the decision and the new state (the
 * input state is not changed). Call {@link recordHeal} when a heal has been done.
 *
 * - policy REPORT (or UNSPECIFIED): report.
 * - inside a quiet period: fight, retry when it ends.
 * - after a quiet period: one trial heal; if that heal is undone within the window, fight again with a
 *   longer quiet period (consecutive fights double it, up to the maximum); if it holds for a window,
 *   the fight is over.
 * - `maxHeals` heals already within the window: fight.
 * - otherwise heal, after a delay that grows with the heals in the window (with jitter from
 *   `random01`), so that a flapping object costs a bounded number of requests.
 */
export function decideHeal(
  policy: DriftPolicy,
  state: HealState,
  nowMs: number,
  random01: number,
  tuning: HealTuning = DEFAULT_HEAL_TUNING,
): { decision: HealDecision; state: HealState } {
  if (policy !== DriftPolicy.HEAL) return { decision: { kind: 'report' }, state };
  const recent = state.healsAtMs.filter((at) => at > nowMs - tuning.windowMs && at <= nowMs);
  const lastHeal = state.healsAtMs[state.healsAtMs.length - 1];
  const fight = (fights: number): { decision: HealDecision; state: HealState } => {
    const quietUntilMs = nowMs + nextBackoffMs(fights, random01, tuning.fightBackoff);
    return {
      decision: { kind: 'fight', retryAtMs: quietUntilMs, healsInWindow: recent.length },
      state: { healsAtMs: keepLast(recent, lastHeal), fights: fights + 1, quietUntilMs },
    };
  };
  const heal = (fights: number, attempt: number): { decision: HealDecision; state: HealState } => ({
    decision: { kind: 'heal', atMs: nowMs + nextBackoffMs(attempt, random01, tuning.healBackoff) },
    state: { healsAtMs: keepLast(recent, lastHeal), fights, quietUntilMs: fights > 0 ? state.quietUntilMs : undefined },
  });

  if (state.quietUntilMs !== undefined && nowMs < state.quietUntilMs) {
    return { decision: { kind: 'fight', retryAtMs: state.quietUntilMs, healsInWindow: recent.length }, state };
  }
  if (state.fights > 0 && state.quietUntilMs !== undefined) {
    const trialDone = lastHeal !== undefined && lastHeal >= state.quietUntilMs;
    if (!trialDone) return heal(state.fights, 0);
    if (nowMs - lastHeal < tuning.windowMs) return fight(state.fights);
    // The trial heal held for a whole window: the fight is over.
    return recent.length >= Math.max(1, tuning.maxHeals) ? fight(0) : heal(0, recent.length);
  }
  if (recent.length >= Math.max(1, tuning.maxHeals)) return fight(0);
  return heal(0, recent.length);
}

/** The state after a heal done at `nowMs`. */
export function recordHeal(state: HealState, nowMs: number, tuning: HealTuning = DEFAULT_HEAL_TUNING): HealState {
  const recent = state.healsAtMs.filter((at) => at > nowMs - tuning.windowMs);
  return { ...state, healsAtMs: [...recent, nowMs] };
}

// The heals within the window, plus the last heal ever (a fight's trial is judged by it).
function keepLast(recent: readonly number[], lastHeal: number | undefined): number[] {
  if (lastHeal === undefined || recent.includes(lastHeal)) return [...recent];
  return [lastHeal, ...recent];
}

/** "fighting with manager "hpa" over spec.replicas; ..." for a status message. */
export function describeFight(managers: readonly string[], paths: readonly string[], retryAtMs: number, nowMs: number): string {
  const who = managers.length === 0 ? 'another manager' : managers.map((manager) => `manager ${JSON.stringify(manager)}`).join(' and ');
  const what = paths.length === 0 ? 'this object' : paths.slice(0, 5).join(', ') + (paths.length > 5 ? ` and ${paths.length - 5} more` : '');
  const seconds = Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000));
  return `fighting with ${who} over ${what}; not healing for ${seconds}s`;
}
