import { LIMITS } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_LEAD_MS, MAX_GENERATION, checkAck, checkReport, type AckCheck, type IncomingAck, type IncomingReportHeader, type ReportCheck } from './check-agent-message';

const REV = 'a'.repeat(64);
const NOW = new Date('2030-01-02T03:04:05.000Z');
const ack = (overrides: Partial<IncomingAck>): IncomingAck => ({ appName: 'web', revision: REV, generation: 7n, accepted: true, error: '', ...overrides });
const report = (overrides: Partial<IncomingReportHeader>): IncomingReportHeader => ({
  appName: 'web',
  revision: REV,
  generation: 7n,
  observedAtUnixMs: BigInt(NOW.getTime() - 1000),
  ...overrides,
});

describe('checkAck', () => {
  it.each<{ name: string; ack: IncomingAck; want: AckCheck }>([
    { name: 'an accepted ack of a release is taken for that release', ack: ack({}), want: { kind: 'release', appName: 'web', revision: REV, generation: 7n, error: null } },
    {
      name: 'a refusal keeps its error',
      ack: ack({ accepted: false, error: 'out of scope' }),
      want: { kind: 'release', appName: 'web', revision: REV, generation: 7n, error: 'out of scope' },
    },
    {
      name: 'a refusal without an error gets one',
      ack: ack({ accepted: false, error: '' }),
      want: { kind: 'release', appName: 'web', revision: REV, generation: 7n, error: 'refused by the agent' },
    },
    { name: 'an ack with an empty revision is a removal', ack: ack({ revision: '' }), want: { kind: 'removal', appName: 'web', generation: 7n, accepted: true, error: null } },
    {
      name: 'a removal may name an App longer than any the hub releases (the agent may hold it)',
      ack: ack({ revision: '', appName: 'n'.repeat(200) }),
      want: { kind: 'removal', appName: 'n'.repeat(200), generation: 7n, accepted: true, error: null },
    },
    { name: 'the largest bigint generation is accepted', ack: ack({ generation: MAX_GENERATION }), want: { kind: 'release', appName: 'web', revision: REV, generation: MAX_GENERATION, error: null } },
    { name: 'generation 2^63 was never issued', ack: ack({ generation: MAX_GENERATION + 1n }), want: { kind: 'ignore', reason: 'generation never issued' } },
    { name: 'generation 2^64 - 1 (the wire maximum) was never issued', ack: ack({ generation: 2n ** 64n - 1n, revision: '' }), want: { kind: 'ignore', reason: 'generation never issued' } },
    { name: 'generation 0 (unset) was never issued', ack: ack({ generation: 0n }), want: { kind: 'ignore', reason: 'generation never issued' } },
    { name: 'a revision that is not a sha256 was never released', ack: ack({ revision: 'A'.repeat(64) }), want: { kind: 'ignore', reason: 'not a revision' } },
    { name: 'a released revision with trailing bytes is not a revision', ack: ack({ revision: `${REV}x` }), want: { kind: 'ignore', reason: 'not a revision' } },
    { name: 'an empty App name names nothing', ack: ack({ appName: '' }), want: { kind: 'ignore', reason: 'App name out of range' } },
    { name: 'a release ack naming an App longer than 63 characters names nothing', ack: ack({ appName: 'n'.repeat(64) }), want: { kind: 'ignore', reason: 'App name out of range' } },
    { name: 'a removal ack naming an App longer than 253 characters names nothing', ack: ack({ revision: '', appName: 'n'.repeat(254) }), want: { kind: 'ignore', reason: 'App name out of range' } },
  ])('$name', ({ ack: input, want }) => {
    expect(checkAck(input)).toEqual(want);
  });

  it('bounds the error text', () => {
    const checked = checkAck(ack({ accepted: false, error: 'e'.repeat(100_000) }));
    expect(checked.kind === 'release' && checked.error!.length).toBe(LIMITS.maxTextChars);
  });
});

describe('checkReport', () => {
  const judged = (observedAt: Date, overrides: Partial<Extract<ReportCheck, { kind: 'judgement' }>> = {}): ReportCheck => ({
    kind: 'judgement',
    appName: 'web',
    revision: REV,
    generation: 7n,
    observedAt,
    ...overrides,
  });

  it.each<{ name: string; report: IncomingReportHeader; want: ReportCheck }>([
    { name: 'a well-formed report is a judgement observed when the agent says', report: report({}), want: judged(new Date(NOW.getTime() - 1000)) },
    { name: 'an unset observation time is the hub’s now', report: report({ observedAtUnixMs: 0n }), want: judged(NOW) },
    { name: 'a time before the epoch is the hub’s now', report: report({ observedAtUnixMs: -5n }), want: judged(NOW) },
    { name: 'a time a minute ahead (clock skew) is kept', report: report({ observedAtUnixMs: BigInt(NOW.getTime() + 60_000) }), want: judged(new Date(NOW.getTime() + 60_000)) },
    { name: 'a time more than a day ahead is the hub’s now', report: report({ observedAtUnixMs: BigInt(NOW.getTime() + MAX_CLOCK_LEAD_MS + 1) }), want: judged(NOW) },
    { name: 'a time of 2^63 - 1 ms is the hub’s now', report: report({ observedAtUnixMs: MAX_GENERATION }), want: judged(NOW) },
    { name: 'generation 2^63 was never issued', report: report({ generation: MAX_GENERATION + 1n }), want: { kind: 'ignore', reason: 'generation never issued' } },
    { name: 'generation 0 was never issued', report: report({ generation: 0n }), want: { kind: 'ignore', reason: 'generation never issued' } },
    { name: 'a revision that is not a sha256 was never released', report: report({ revision: 'f00' }), want: { kind: 'ignore', reason: 'not a revision' } },
    { name: 'an empty revision was never released', report: report({ revision: '' }), want: { kind: 'ignore', reason: 'not a revision' } },
    { name: 'an App name longer than 63 characters names nothing', report: report({ appName: 'n'.repeat(64) }), want: { kind: 'ignore', reason: 'App name out of range' } },
  ])('$name', ({ report: input, want }) => {
    expect(checkReport(input, NOW)).toEqual(want);
  });

  it('does not share or change the `now` it is given', () => {
    const now = new Date(NOW.getTime());
    const checked = checkReport(report({ observedAtUnixMs: 0n }), now);
    expect(checked.kind === 'judgement' && checked.observedAt).not.toBe(now);
    expect(now.getTime()).toBe(NOW.getTime());
  });
});
