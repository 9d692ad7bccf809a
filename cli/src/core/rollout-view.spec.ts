import { describe, expect, it } from 'vitest';
import { progressLine, waveProgress, type RolloutProgressView, type TargetCounts } from './rollout-view.js';

const counts = (c: Partial<TargetCounts>): TargetCounts => ({ total: 0, pending: 0, progressing: 0, healthy: 0, failed: 0, skipped: 0, superseded: 0, ...c });
const view = (over: Partial<RolloutProgressView>): RolloutProgressView => ({
  id: 'r1',
  appSet: 'web',
  phase: 'PROGRESSING',
  currentWave: 'eu',
  reason: '',
  counts: counts({ total: 6 }),
  waves: [
    { name: 'us', approval: false, approved: false, counts: counts({ total: 3, healthy: 3 }) },
    { name: 'eu', approval: false, approved: false, counts: counts({ total: 2, healthy: 1, failed: 1 }) },
    { name: 'ap', approval: true, approved: false, counts: counts({ total: 1, pending: 1 }) },
  ],
  ...over,
});

describe('waveProgress', () => {
  it('counts healthy, failed and skipped targets as settled and marks the current wave', () => {
    expect(waveProgress(view({})).map((w) => [w.name, w.settled, w.total, w.current])).toEqual([
      ['us', 3, 3, false],
      ['eu', 2, 2, true],
      ['ap', 0, 1, false],
    ]);
  });

  it("shows the rollout's reason on the current wave and a wave that awaits approval", () => {
    const waves = waveProgress(view({ reason: 'Failure budget of wave eu breached' }));
    expect(waves[1]!.note).toBe('Failure budget of wave eu breached');
    expect(waves[2]!.note).toBe('awaits approval');
  });

  it('marks no wave current once the rollout finished', () => {
    expect(waveProgress(view({ phase: 'SUCCEEDED' })).some((w) => w.current)).toBe(false);
  });
});

describe('progressLine', () => {
  it('says the phase, each wave with its counts, the current one starred, and the reason', () => {
    expect(progressLine(view({ phase: 'PAUSED', reason: 'Failure budget of wave eu breached' }))).toBe(
      'rollout r1 PAUSED: us 3/3, *eu 1/2 (1 failed), ap 0/1 - Failure budget of wave eu breached',
    );
  });

  it('changes when any count changes (the CI view prints a line per change)', () => {
    const before = view({});
    const after = view({ waves: [...before.waves.slice(0, 2), { ...before.waves[2]!, counts: counts({ total: 1, skipped: 1 }) }] });
    expect(progressLine(after)).not.toBe(progressLine(before));
    expect(progressLine(after)).toContain('ap 0/1 (1 skipped)');
  });
});
