import { describe, expect, it } from 'vitest';
import { isUserJwtUsable, renewAtMs, userJwtTimes } from './nats-user-jwt.js';

const jwtWith = (claims: object) => `eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('userJwtTimes', () => {
  it.each([
    { name: 'reads iat and exp in milliseconds', jwt: jwtWith({ iat: 1000, exp: 4000 }), want: { issuedAtMs: 1_000_000, expiresAtMs: 4_000_000 } },
    { name: 'a JWT without exp never expires', jwt: jwtWith({ iat: 1000 }), want: { issuedAtMs: 1_000_000, expiresAtMs: undefined } },
    { name: 'a JWT without iat is unreadable', jwt: jwtWith({ exp: 4000 }), want: undefined },
    { name: 'a payload that is not JSON is unreadable', jwt: 'a.b.c', want: undefined },
    { name: 'a string without parts is unreadable', jwt: 'nothing', want: undefined },
  ])('$name', ({ jwt, want }) => {
    expect(userJwtTimes(jwt)).toEqual(want);
  });
});

describe('renewAtMs and isUserJwtUsable', () => {
  it.each([
    { name: 'a one-day JWT renews after 16 hours', times: { issuedAtMs: 0, expiresAtMs: 86_400_000 }, want: 57_600_000 },
    { name: 'a 9-second JWT renews after 6 seconds', times: { issuedAtMs: 1000, expiresAtMs: 10_000 }, want: 7000 },
    { name: 'a JWT that never expires is never renewed', times: { issuedAtMs: 0, expiresAtMs: undefined }, want: undefined },
  ])('$name', ({ times, want }) => {
    expect(renewAtMs(times)).toBe(want);
  });

  it.each([
    { name: 'valid well before expiry', now: 5000, want: true },
    { name: 'not usable within the connect margin', now: 9500, want: false },
    { name: 'not usable after expiry', now: 11_000, want: false },
  ])('$name', ({ now, want }) => {
    expect(isUserJwtUsable({ issuedAtMs: 0, expiresAtMs: 10_000 }, now)).toBe(want);
  });
});
