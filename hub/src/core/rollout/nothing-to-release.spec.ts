import { describe, expect, it } from 'vitest';
import { noAppsWarning, nothingToReleaseReason } from './nothing-to-release';

describe('noAppsWarning', () => {
  it('warns when the AppSet stages no App, naming how many clusters are registered', () => {
    expect(noAppsWarning(0, 3)).toEqual({
      code: 'NO_TARGET_CLUSTERS',
      path: 'spec.generators',
      message: 'The AppSet stages no App: its generators select none of the 3 registered cluster(s), so a rollout has nothing to release.',
    });
  });

  it('says nothing when at least one App is staged', () => {
    expect(noAppsWarning(1, 3)).toBeUndefined();
  });
});

describe('nothingToReleaseReason', () => {
  it.each([
    { apps: 0, want: 'Nothing to release: revision 2 stages no App on any cluster (its generators select no cluster).' },
    { apps: 5, want: 'Nothing to release: every cluster already runs what revision 2 stages.' },
  ])('with $apps App(s): $want', ({ apps, want }) => {
    expect(nothingToReleaseReason(2, apps)).toBe(want);
  });
});
