import { describe, expect, it } from 'vitest';
import { canOperate, expiredNotice, msUntilExpiry, type Me } from './session';
import { normalizeToken } from './token-store';

const me = (admin: boolean, grants: [string, 'ADMIN' | 'OPERATOR' | 'VIEWER'][]): Me => ({
  actor: 'token:t',
  admin,
  kind: 'token',
  name: 't',
  expiresAt: null,
  projects: grants.map(([project, role]) => ({ project, role })),
});

describe('canOperate', () => {
  it.each([
    ['a fleet admin, anywhere', me(true, []), 'payments', true],
    ['an operator of the project', me(false, [['payments', 'OPERATOR']]), 'payments', true],
    ['an operator of another project', me(false, [['web', 'OPERATOR']]), 'payments', false],
    ['a viewer of the project', me(false, [['payments', 'VIEWER']]), 'payments', false],
    ['an operator somewhere, project unknown', me(false, [['web', 'ADMIN']]), undefined, true],
    ['a viewer only, project unknown', me(false, [['web', 'VIEWER']]), undefined, false],
  ])('%s: %s', (_case, caller, project, expected) => {
    expect(canOperate(caller, project)).toBe(expected);
  });
});

describe('msUntilExpiry', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['no expiry', null, undefined],
    ['an unreadable time', 'soon', undefined],
    ['in a minute', '2026-01-01T00:01:00Z', 60_000],
    ['already past', '2025-12-31T23:00:00Z', 0],
    ['in a year (capped to what a timer takes)', '2027-01-01T00:00:00Z', 2_147_483_647],
  ])('%s', (_case, expiresAt, expected) => {
    expect(msUntilExpiry(expiresAt, now)).toBe(expected);
  });
});

describe('normalizeToken', () => {
  it.each([
    ['  flt_api_abc \n', 'flt_api_abc'],
    ['Bearer flt_api_abc', 'flt_api_abc'],
    ['bearer   flt_api_abc', 'flt_api_abc'],
    ['   ', undefined],
    ['Bearer ', undefined],
  ])('reads %j as %j', (text, expected) => {
    expect(normalizeToken(text)).toBe(expected);
  });
});

describe('expiredNotice', () => {
  it.each([
    ['an API token', 'token', 'Your session ended: the token expired. Sign in again.'],
    ['a single sign-on access token', 'oidc', 'Your session ended: your single sign-on access token expired. Sign in again.'],
  ])('names %s', (_case, kind, expected) => {
    expect(expiredNotice(kind)).toBe(expected);
  });
});
