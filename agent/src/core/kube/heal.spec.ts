import { DriftPolicy } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { decideHeal, describeFight, INITIAL_HEAL_STATE, recordHeal, type HealState, type HealTuning } from './heal.js';

const tuning: HealTuning = {
  windowMs: 60_000,
  maxHeals: 3,
  healBackoff: { baseMs: 1_000, maxMs: 8_000 },
  fightBackoff: { baseMs: 100_000, maxMs: 400_000 },
};
const NOW = 1_000_000;
const state = (healsAtMs: number[], fights = 0, quietUntilMs?: number): HealState => ({ healsAtMs, fights, quietUntilMs });

describe('decideHeal', () => {
  it.each([
    { name: 'the report policy only reports', policy: DriftPolicy.REPORT, given: INITIAL_HEAL_STATE, want: { kind: 'report' } },
    { name: 'an unspecified policy only reports', policy: DriftPolicy.UNSPECIFIED, given: INITIAL_HEAL_STATE, want: { kind: 'report' } },
    { name: 'a first drift heals after half the base delay at the lowest draw', policy: DriftPolicy.HEAL, given: INITIAL_HEAL_STATE, want: { kind: 'heal', atMs: NOW + 500 } },
    {
      name: 'the heal delay grows with the heals in the window',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 20_000, NOW - 10_000]),
      want: { kind: 'heal', atMs: NOW + 500 },
    },
    {
      name: 'heals that left the window no longer count',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 70_000, NOW - 65_000, NOW - 61_000]),
      want: { kind: 'heal', atMs: NOW + 500 },
    },
    {
      name: 'a drift after the maximum of heals within the window is a fight',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 30_000, NOW - 20_000, NOW - 10_000]),
      want: { kind: 'fight', retryAtMs: NOW + 50_000, healsInWindow: 3 },
    },
    {
      name: 'inside the quiet period of a fight nothing is healed',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 30_000], 1, NOW + 5_000),
      want: { kind: 'fight', retryAtMs: NOW + 5_000, healsInWindow: 1 },
    },
    {
      name: 'after the quiet period one trial heal is made',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 100_000], 1, NOW - 1_000),
      want: { kind: 'heal', atMs: NOW + 500 },
    },
    {
      name: 'a trial heal undone within the window is a second fight',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 5_000], 1, NOW - 6_000),
      want: { kind: 'fight', retryAtMs: NOW + 50_000, healsInWindow: 1 },
    },
    {
      name: 'a trial heal that held for a window ends the fight',
      policy: DriftPolicy.HEAL,
      given: state([NOW - 70_000], 2, NOW - 80_000),
      want: { kind: 'heal', atMs: NOW + 500 },
    },
  ])('$name', ({ policy, given, want }) => {
    expect(decideHeal(policy, given, NOW, 0, tuning).decision).toEqual(want);
  });

  it('counts consecutive fights and keeps their quiet period in the state', () => {
    const first = decideHeal(DriftPolicy.HEAL, state([NOW - 3, NOW - 2, NOW - 1]), NOW, 0, tuning);
    expect(first.state).toMatchObject({ fights: 1, quietUntilMs: NOW + 50_000 });
    const second = decideHeal(DriftPolicy.HEAL, recordHeal(first.state, NOW + 60_000, tuning), NOW + 61_000, 0, tuning);
    expect(second.decision.kind).toBe('fight');
    expect(second.state.fights).toBe(2);
  });

  it('makes the quiet period of consecutive fights longer', () => {
    const first = decideHeal(DriftPolicy.HEAL, state([NOW - 3, NOW - 2, NOW - 1]), NOW, 0.999999, tuning).decision;
    const second = decideHeal(DriftPolicy.HEAL, state([NOW - 5_000], 1, NOW - 6_000), NOW, 0.999999, tuning).decision;
    expect(first).toEqual({ kind: 'fight', retryAtMs: NOW + 99_999, healsInWindow: 3 });
    expect(second).toEqual({ kind: 'fight', retryAtMs: NOW + 199_999, healsInWindow: 1 });
  });

  it('never changes the state it is given', () => {
    const given = state([NOW - 3, NOW - 2, NOW - 1]);
    const copy = structuredClone(given);
    decideHeal(DriftPolicy.HEAL, given, NOW, 0.5, tuning);
    expect(given).toEqual(copy);
  });

  it('bounds the heals of an object that flaps forever', () => {
    // Another manager undoes every heal at once: count the heals over an hour.
    let current = INITIAL_HEAL_STATE;
    let now = NOW;
    const heals: number[] = [];
    while (now < NOW + 3_600_000) {
      const { decision, state: next } = decideHeal(DriftPolicy.HEAL, current, now, 0.5, tuning);
      current = next;
      if (decision.kind === 'heal') {
        now = decision.atMs;
        current = recordHeal(current, now, tuning);
        heals.push(now);
      } else if (decision.kind === 'fight') {
        now = decision.retryAtMs;
      } else break;
    }
    // maxHeals quick heals, then one trial heal per quiet period (never shorter than half its base).
    const afterFirstFight = heals.slice(tuning.maxHeals);
    for (let i = 1; i < afterFirstFight.length; i += 1) {
      expect((afterFirstFight[i] ?? 0) - (afterFirstFight[i - 1] ?? 0)).toBeGreaterThanOrEqual(tuning.fightBackoff.baseMs / 2);
    }
    expect(heals.length).toBeLessThanOrEqual(tuning.maxHeals + 3_600_000 / (tuning.fightBackoff.baseMs / 2));
  });
});

describe('describeFight', () => {
  it('names the managers and the fields', () => {
    expect(describeFight(['hpa'], ['spec.replicas'], NOW + 30_000, NOW)).toBe('fighting with manager "hpa" over spec.replicas; not healing for 30s');
  });
});
