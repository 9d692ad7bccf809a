/**
 * Exit codes of every command (the convention of `kubectl rollout status`, `argocd app diff`, `flux diff`):
 * 0 done; 1 a negative answer (a diff with changes, a rollout that failed, a change the hub refused
 * with issues); 2 an error (bad flags or input, the hub unreachable, not authenticated, not allowed);
 * 3 a wait that timed out.
 */
export const ExitCode = {
  ok: 0,
  negative: 1,
  error: 2,
  timedOut: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The rollout phases as the API names them. */
export type RolloutPhaseName = 'ABORTED' | 'FAILED' | 'NOTHING_TO_DO' | 'PAUSED' | 'PROGRESSING' | 'ROLLED_BACK' | 'SUCCEEDED' | 'SUPERSEDED';

/** What a watcher of a rollout does next: keep waiting, or stop with an exit code and why. */
export type RolloutWatchDecision = { kind: 'wait' } | { kind: 'done'; exitCode: ExitCode; outcome: string };

/**
 * Decides whether `rollout start --wait` / `rollout status --watch` stop on this view of a rollout.
 * Finished phases stop: SUCCEEDED and NOTHING_TO_DO (every cluster already ran what was staged) with 0,
 * every other finished phase with 1. A rollout PAUSED with
 * failed targets has stopped on its failure budget (onFailure: pause) and stops the watch with 1; a
 * rollout paused by hand or waiting for an approval has no failures and is waited for.
 */
export function decideRolloutWatch(view: { phase: RolloutPhaseName; counts: { failed: number } }): RolloutWatchDecision {
  switch (view.phase) {
    case 'SUCCEEDED':
      return { kind: 'done', exitCode: ExitCode.ok, outcome: 'succeeded' };
    case 'NOTHING_TO_DO':
      return { kind: 'done', exitCode: ExitCode.ok, outcome: 'had nothing to do: every cluster already runs what is staged' };
    case 'FAILED':
      return { kind: 'done', exitCode: ExitCode.negative, outcome: 'failed' };
    case 'ROLLED_BACK':
      return { kind: 'done', exitCode: ExitCode.negative, outcome: 'rolled back' };
    case 'ABORTED':
      return { kind: 'done', exitCode: ExitCode.negative, outcome: 'aborted' };
    case 'SUPERSEDED':
      return { kind: 'done', exitCode: ExitCode.negative, outcome: 'superseded by a later rollout' };
    case 'PAUSED':
      return view.counts.failed > 0 ? { kind: 'done', exitCode: ExitCode.negative, outcome: 'paused on failures' } : { kind: 'wait' };
    case 'PROGRESSING':
      return { kind: 'wait' };
  }
}

/**
 * The exit code of `appset diff`: 2 when the hub found issues (the diff could not be computed), 1 when
 * anything would be added, changed or removed, 0 otherwise.
 */
export function decideDiffExit(preview: { issues: readonly unknown[]; totals: { added: number; changed: number; removed: number } | null }): ExitCode {
  if (preview.issues.length > 0) return ExitCode.error;
  const totals = preview.totals;
  if (totals && totals.added + totals.changed + totals.removed > 0) return ExitCode.negative;
  return ExitCode.ok;
}
