import type { RolloutLiveFragment } from '../gen/graphql';

export type WaveState = 'done' | 'current' | 'waiting' | 'stopped';

const ACTIVE = new Set(['PROGRESSING', 'PAUSED']);

/** Whether a rollout can still move (PROGRESSING or PAUSED). */
export function isActive(phase: string): boolean {
  return ACTIVE.has(phase);
}

/**
 * Where each wave stands, in the rollout's order: the current wave of an active rollout is `current`,
 * waves before it `done`, after it `waiting`; a finished rollout's waves are `done` when every target
 * settled and `stopped` otherwise.
 */
export function waveStates(rollout: Pick<RolloutLiveFragment, 'phase' | 'currentWave' | 'waves'>): WaveState[] {
  const currentIndex = rollout.waves.findIndex((wave) => wave.name === rollout.currentWave);
  return rollout.waves.map((wave, index) => {
    if (!isActive(rollout.phase)) {
      const settled = wave.counts.pending === 0 && wave.counts.progressing === 0;
      return settled ? 'done' : 'stopped';
    }
    if (currentIndex < 0) return 'waiting';
    if (index < currentIndex) return 'done';
    return index === currentIndex ? 'current' : 'waiting';
  });
}
