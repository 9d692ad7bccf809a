import { describe, expect, it } from 'vitest';
import { waveStates } from './wave-states';

const counts = (pending: number, progressing: number, healthy: number) => ({ total: pending + progressing + healthy, pending, progressing, healthy, failed: 0, skipped: 0, superseded: 0 });
const wave = (name: string, c = counts(0, 0, 2)) => ({ name, clusters: [], approval: false, approved: false, maxConcurrency: 1, maxFailures: 0, soakMs: 0, progressDeadlineMs: 60_000, counts: c });

describe('waveStates', () => {
  it.each([
    ['the first wave of a new rollout is current, the rest wait', 'PROGRESSING', 'us', ['current', 'waiting', 'waiting']],
    ['waves before the current one are done', 'PROGRESSING', 'eu', ['done', 'current', 'waiting']],
    ['a paused rollout keeps its current wave', 'PAUSED', 'ap', ['done', 'done', 'current']],
    ['an active rollout without a current wave waits everywhere', 'PROGRESSING', null, ['waiting', 'waiting', 'waiting']],
  ])('%s', (_case, phase, currentWave, expected) => {
    expect(waveStates({ phase: phase as 'PROGRESSING', currentWave, waves: [wave('us'), wave('eu'), wave('ap')] })).toEqual(expected);
  });

  it('marks the waves of a finished rollout done where every target settled and stopped elsewhere', () => {
    const waves = [wave('us'), wave('eu', counts(1, 1, 0)), wave('ap', counts(2, 0, 0))];
    expect(waveStates({ phase: 'ABORTED', currentWave: 'eu', waves })).toEqual(['done', 'stopped', 'stopped']);
    expect(waveStates({ phase: 'SUCCEEDED', currentWave: 'ap', waves: [wave('us'), wave('eu')] })).toEqual(['done', 'done']);
  });
});
