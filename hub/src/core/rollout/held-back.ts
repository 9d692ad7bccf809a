import type { RolloutTrigger } from './strategy';

/** The phases in which a rollout ended without its revision reaching every cluster on purpose. */
export const HOLDING_PHASES = ['ROLLED_BACK', 'ABORTED', 'FAILED'] as const;

/** The latest rollout of an AppSet, as far as holding a revision back goes. */
export interface LatestRollout {
  readonly id: string;
  readonly revision: number;
  readonly phase: string;
  /** Why it ended where it did, in the words of whoever (or whatever) ended it; may be empty. */
  readonly reason: string;
}

/** A staged revision that is not released and that the auto trigger will not release by itself. */
export interface HeldBack {
  readonly revision: number;
  /** Which rollout held it back and how it ended, in one clause (no final period). */
  readonly summary: string;
  /** The summary, and what releases the revision under the AppSet's trigger. */
  readonly reason: string;
}

/**
 * Whether the AppSet's current revision is held back: its latest rollout was of that revision and
 * was rolled back, aborted or failed. Held back until a new revision arrives (the latest rollout is
 * then of an older revision) or a rollout of it is started by hand (that rollout is then the latest).
 * Pure; undefined when nothing is held back.
 */
export function heldBackRevision(currentRevision: number, trigger: RolloutTrigger, latest: LatestRollout | undefined): HeldBack | undefined {
  if (!latest || latest.revision !== currentRevision) return undefined;
  const ended = ({ ROLLED_BACK: 'was rolled back', ABORTED: 'was aborted', FAILED: 'failed' } as Record<string, string>)[latest.phase];
  if (!ended) return undefined;
  const why = latest.reason.trim() ? `: ${latest.reason.trim().replace(/\.$/, '')}` : '';
  const next =
    trigger === 'auto'
      ? 'The auto trigger does not release it again; a new revision, or startRollout by hand, does.'
      : 'It stays staged and unreleased until startRollout releases it by hand, or a new revision replaces it.';
  const summary = `Rollout ${latest.id} of revision ${currentRevision} ${ended}${why}`;
  return { revision: currentRevision, summary, reason: `${summary}. ${next}` };
}
