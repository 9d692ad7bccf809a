import { describe, expect, it } from 'vitest';
import { waveGates, waveStates } from './wave-states';

const counts = (pending: number, progressing: number, healthy: number) => ({ total: pending + progressing + healthy, pending, progressing, healthy, failed: 0, skipped: 0, superseded: 0 });
const wave = (name: string, c = counts(0, 0, 2)) => ({ name, clusters: [], approval: false, approved: false, maxConcurrency: 1, maxFailures: 0, soakMs: 0, progressDeadlineMs: 60_000, counts: c, soakEndsAt: null, offlineClusters: [] as string[], offlineClusterCount: 0 });

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

describe('waveGates', () => {
  const NOW = Date.parse('2026-12-06T12:00:00Z');
  const at = (ms: number) => new Date(NOW + ms).toISOString();
  const base = { ...wave('eu'), clusters: ['eu-1', 'eu-2'], maxConcurrency: 1 };
  it.each([
    ['a plain wave says its size and its failure budget', base, 'current', [['2 clusters, 1 at a time', false], ['Failures 0 of 0 allowed', false]]],
    ['a wave waiting for approval is held by it', { ...base, approval: true }, 'waiting', [['2 clusters, 1 at a time', false], ['Needs approval', true], ['Failures 0 of 0 allowed', false]]],
    ['an approved wave says so', { ...base, approval: true, approved: true }, 'current', [['2 clusters, 1 at a time', false], ['Approved', false], ['Failures 0 of 0 allowed', false]]],
    ['the current wave soaking says how long is left', { ...base, soakMs: 30_000, soakEndsAt: at(12_300) }, 'current', [['2 clusters, 1 at a time', false], ['Soaking: 13 s left of 30 s', true], ['Failures 0 of 0 allowed', false]]],
    ['a soak that ended is its length only', { ...base, soakMs: 30_000, soakEndsAt: at(-1) }, 'current', [['2 clusters, 1 at a time', false], ['Soak 30 s', false], ['Failures 0 of 0 allowed', false]]],
    ['a soak not started yet is its length only', { ...base, soakMs: 30_000 }, 'waiting', [['2 clusters, 1 at a time', false], ['Soak 30 s', false], ['Failures 0 of 0 allowed', false]]],
    ['a breached failure budget holds', { ...base, maxFailures: 1, counts: { ...counts(0, 0, 0), failed: 2, total: 2 } }, 'current', [['2 clusters, 1 at a time', false], ['Failures 2 of 1 allowed: budget breached', true]]],
    ['offline clusters are named, with how many more there are', { ...base, offlineClusters: ['eu-2'], offlineClusterCount: 3 }, 'current', [['2 clusters, 1 at a time', false], ['Failures 0 of 0 allowed', false], ['Waiting for 3 offline clusters: eu-2 and 2 more', true]]],
    ['a stopped wave holds on nothing', { ...base, approval: true, offlineClusters: ['eu-2'], offlineClusterCount: 1 }, 'stopped', [['2 clusters, 1 at a time', false], ['Needs approval', false], ['Failures 0 of 0 allowed', false], ['Waiting for 1 offline cluster: eu-2', false]]],
  ])('%s', (_case, w, state, expected) => {
    expect(waveGates(w, state as 'current', NOW).map((g) => [g.text, g.holding])).toEqual(expected);
  });
});
