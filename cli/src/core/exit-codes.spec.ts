import { describe, expect, it } from 'vitest';
import { decideDiffExit, decideRolloutWatch, ExitCode, type RolloutPhaseName } from './exit-codes.js';

describe('decideRolloutWatch', () => {
  const cases: { phase: RolloutPhaseName; failed: number; want: { kind: 'wait' } | { kind: 'done'; exitCode: number } }[] = [
    { phase: 'SUCCEEDED', failed: 0, want: { kind: 'done', exitCode: ExitCode.ok } },
    { phase: 'NOTHING_TO_DO', failed: 0, want: { kind: 'done', exitCode: ExitCode.ok } },
    { phase: 'FAILED', failed: 2, want: { kind: 'done', exitCode: ExitCode.negative } },
    { phase: 'ROLLED_BACK', failed: 1, want: { kind: 'done', exitCode: ExitCode.negative } },
    { phase: 'ABORTED', failed: 0, want: { kind: 'done', exitCode: ExitCode.negative } },
    { phase: 'SUPERSEDED', failed: 0, want: { kind: 'done', exitCode: ExitCode.negative } },
    { phase: 'PAUSED', failed: 1, want: { kind: 'done', exitCode: ExitCode.negative } },
    { phase: 'PAUSED', failed: 0, want: { kind: 'wait' } },
    { phase: 'PROGRESSING', failed: 0, want: { kind: 'wait' } },
    { phase: 'PROGRESSING', failed: 3, want: { kind: 'wait' } },
  ];
  it.each(cases)('a rollout $phase with $failed failed targets: $want.kind', ({ phase, failed, want }) => {
    expect(decideRolloutWatch({ phase, counts: { failed } })).toMatchObject(want);
  });

  it('says why a watch stopped in words an operator reads', () => {
    expect(decideRolloutWatch({ phase: 'PAUSED', counts: { failed: 1 } })).toEqual({ kind: 'done', exitCode: 1, outcome: 'paused on failures' });
    expect(decideRolloutWatch({ phase: 'ROLLED_BACK', counts: { failed: 1 } })).toEqual({ kind: 'done', exitCode: 1, outcome: 'rolled back' });
  });
});

describe('decideDiffExit', () => {
  const totals = (added: number, changed: number, removed: number) => ({ added, changed, removed, unchanged: 0 });
  it.each([
    { what: 'no change', preview: { issues: [], totals: totals(0, 0, 0) }, want: 0 },
    { what: 'no totals at all', preview: { issues: [], totals: null }, want: 0 },
    { what: 'an App added', preview: { issues: [], totals: totals(1, 0, 0) }, want: 1 },
    { what: 'an App changed', preview: { issues: [], totals: totals(0, 2, 0) }, want: 1 },
    { what: 'an App removed', preview: { issues: [], totals: totals(0, 0, 1) }, want: 1 },
    { what: 'issues, even with changes', preview: { issues: [{ code: 'X' }], totals: totals(3, 0, 0) }, want: 2 },
  ])('exits $want for $what', ({ preview, want }) => {
    expect(decideDiffExit(preview)).toBe(want);
  });
});
