import { describe, expect, it } from 'vitest';
import { heldBackRevision, type LatestRollout } from './held-back';

const rollout = (phase: string, revision = 4, reason = 'probes fail in eu'): LatestRollout => ({ id: 'r-1', revision, phase, reason });

describe('heldBackRevision', () => {
  it.each<{ name: string; latest: LatestRollout | undefined; held: boolean }>([
    { name: 'a rolled back rollout of the current revision holds it back', latest: rollout('ROLLED_BACK'), held: true },
    { name: 'an aborted rollout of the current revision holds it back', latest: rollout('ABORTED'), held: true },
    { name: 'a failed rollout of the current revision holds it back', latest: rollout('FAILED'), held: true },
    { name: 'a rolled back rollout of an older revision holds nothing back (a new revision arrived)', latest: rollout('ROLLED_BACK', 3), held: false },
    { name: 'a later rollout started by hand releases the hold', latest: rollout('PROGRESSING'), held: false },
    { name: 'a succeeded rollout holds nothing back', latest: rollout('SUCCEEDED'), held: false },
    { name: 'a superseded rollout holds nothing back', latest: rollout('SUPERSEDED'), held: false },
    { name: 'an AppSet never rolled out holds nothing back', latest: undefined, held: false },
  ])('$name', ({ latest, held }) => {
    expect(heldBackRevision(4, 'auto', latest)?.revision).toBe(held ? 4 : undefined);
  });

  it('says which rollout, how it ended and why, and what releases the revision under each trigger', () => {
    expect(heldBackRevision(4, 'auto', rollout('ROLLED_BACK'))!.reason).toBe(
      'Rollout r-1 of revision 4 was rolled back: probes fail in eu. The auto trigger does not release it again; a new revision, or startRollout by hand, does.',
    );
    expect(heldBackRevision(4, 'manual', rollout('ABORTED', 4, ''))!.reason).toBe(
      'Rollout r-1 of revision 4 was aborted. It stays staged and unreleased until startRollout releases it by hand, or a new revision replaces it.',
    );
  });
});
