import { describe, expect, it } from 'vitest';
import { renewalDueAtMs } from './client-identity.js';

const DAY_MS = 86_400_000;
const T0 = 1_800_000_000_000;

describe('renewalDueAtMs', () => {
  it.each([
    { name: 'a 30-day certificate is renewed 20 days after its notBefore', lifetimeMs: 30 * DAY_MS, dueAfterMs: 20 * DAY_MS },
    { name: 'a 3-day certificate is renewed after 2 days', lifetimeMs: 3 * DAY_MS, dueAfterMs: 2 * DAY_MS },
    { name: 'a one-year certificate is renewed after about 243 days (past the longest Node timer, so chained)', lifetimeMs: 365 * DAY_MS, dueAfterMs: Math.floor((365 * DAY_MS * 2) / 3) },
    { name: 'a certificate of 3 ms is renewed after 2 ms', lifetimeMs: 3, dueAfterMs: 2 },
    { name: 'a 60-second certificate backdated by 6 s (FLOTILLA_AGENT_CERT_TTL_SECONDS=60) is renewed 38 s after issuance', lifetimeMs: 66_000, dueAfterMs: 44_000 },
  ])('$name', ({ lifetimeMs, dueAfterMs }) => {
    expect(renewalDueAtMs({ notBeforeMs: T0, notAfterMs: T0 + lifetimeMs })).toBe(T0 + dueAfterMs);
  });
});
