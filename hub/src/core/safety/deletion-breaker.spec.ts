import { describe, expect, it } from 'vitest';
import { checkDeletionBreaker } from './deletion-breaker';

describe('checkDeletionBreaker', () => {
  it.each([
    { name: 'removing nothing passes', current: 10, removed: 0, trips: false },
    { name: 'a new AppSet (no Apps yet) passes', current: 0, removed: 0, trips: false },
    { name: 'removing exactly 20% passes', current: 10, removed: 2, trips: false },
    { name: 'removing 3 of 10 trips', current: 10, removed: 3, trips: true },
    { name: 'removing every App trips', current: 4, removed: 4, trips: true },
    { name: 'removing the only App trips', current: 1, removed: 1, trips: true },
  ])('$name', ({ current, removed, trips }) => {
    expect(checkDeletionBreaker(current, removed) !== undefined).toBe(trips);
  });

  it('explains the refusal with counts and the way out', () => {
    expect(checkDeletionBreaker(10, 5)?.message).toBe(
      'This change would remove 5 of 10 Apps (50%), more than the 20% allowed; nothing was staged. Check the generators, or apply again with force: true.',
    );
  });

  it('takes a configured share', () => {
    expect(checkDeletionBreaker(10, 5, 0.5)).toBeUndefined();
  });
});
