import { describe, expect, it } from 'vitest';
import { autoStartReason } from './trigger-reason';

const SHA = '3f2a9c1d0b7e6a5f4c3b2a190817263544536271';

describe('autoStartReason', () => {
  it.each([
    { name: 'names the revision when it came through the API', revision: 3, commit: undefined, want: 'trigger auto: revision 3 was staged.' },
    {
      name: 'names the commit, its subject, author and time when it came from Git',
      revision: 4,
      commit: { sha: SHA, subject: 'Raise replicas', author: 'Alice <alice@example.com>', time: Date.UTC(2026, 11, 6, 7, 0, 0) },
      want: `trigger auto: revision 4 was staged from commit ${SHA} "Raise replicas" by Alice <alice@example.com> at 2026-12-06T07:00:00.000Z.`,
    },
    { name: 'leaves out what the commit does not have', revision: 5, commit: { sha: SHA }, want: `trigger auto: revision 5 was staged from commit ${SHA}.` },
  ])('$name', ({ revision, commit, want }) => {
    expect(autoStartReason(revision, commit)).toBe(want);
  });

  it('keeps the reason one line of at most 1000 characters, whatever the commit says', () => {
    const reason = autoStartReason(6, { sha: SHA, subject: `line one\nline two\u0007${'x'.repeat(5000)}`, author: 'a\r\nb'.repeat(300) });
    expect(reason).not.toMatch(/\p{Cc}/u);
    expect(reason.length).toBeLessThanOrEqual(1000);
    expect(reason).toContain('"line one line two xxx');
    expect(reason).toContain('…');
  });
});
