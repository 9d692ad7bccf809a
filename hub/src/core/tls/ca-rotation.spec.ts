import { describe, expect, it } from 'vitest';
import { effectiveTrust, rotationRefusal, serverRenewalReason, trustKey, type CaRecords, type CaSummary } from './ca-rotation';

const OLD: CaSummary = { fingerprint: 'old' };
const NEW: CaSummary = { fingerprint: 'new' };
const EXTRA: CaSummary = { fingerprint: 'extra' };
const T0 = new Date('2026-12-06T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const fps = (cas: readonly CaSummary[]) => cas.map((ca) => ca.fingerprint);

describe('effectiveTrust', () => {
  const rotating: CaRecords<CaSummary> = { signing: NEW, retiring: { ca: OLD, retiresAt: at(60) } };
  it.each([
    { when: 'without a rotation, one CA signs everything and is the only one trusted', records: { signing: OLD }, now: at(0), client: 'old', server: 'old', trusted: ['old'], retiresAt: undefined },
    { when: 'during the overlap, the new CA signs clients, the retiring one the server, both trusted', records: rotating, now: at(59), client: 'new', server: 'old', trusted: ['new', 'old'], retiresAt: at(60) },
    { when: 'at the end of the overlap, the retiring CA is gone and the new one signs the server', records: rotating, now: at(60), client: 'new', server: 'new', trusted: ['new'], retiresAt: undefined },
    { when: 'extra trusted CAs (operator-supplied) are trusted but sign nothing', records: { signing: OLD, extraTrusted: [EXTRA, OLD] }, now: at(0), client: 'old', server: 'old', trusted: ['old', 'extra'], retiresAt: undefined },
  ])('$when', ({ records, now, client, server, trusted, retiresAt }) => {
    const trust = effectiveTrust(records, now);
    expect(trust.clientSigner.fingerprint).toBe(client);
    expect(trust.serverSigner.fingerprint).toBe(server);
    expect(fps(trust.trusted)).toEqual(trusted);
    expect(trust.retiresAt).toEqual(retiresAt);
  });

  it('gives a different key when the overlap ends, and the same key for the same trust', () => {
    expect(trustKey(effectiveTrust(rotating, at(1)))).toBe(trustKey(effectiveTrust(rotating, at(59))));
    expect(trustKey(effectiveTrust(rotating, at(59)))).not.toBe(trustKey(effectiveTrust(rotating, at(60))));
  });
});

describe('serverRenewalReason', () => {
  const trust = effectiveTrust({ signing: NEW, retiring: { ca: OLD, retiresAt: at(600) } }, at(0));
  it.each([
    { when: 'a fresh certificate from the server signer is kept', served: { signerFingerprint: 'old', notBefore: at(0), notAfter: at(300) }, now: at(199), reason: undefined },
    { when: 'a certificate two thirds through its life is renewed', served: { signerFingerprint: 'old', notBefore: at(0), notAfter: at(300) }, now: at(200), reason: 'renewal-due' },
    { when: 'a certificate from a CA that no longer signs servers is replaced at once', served: { signerFingerprint: 'new', notBefore: at(0), notAfter: at(300) }, now: at(1), reason: 'signer-changed' },
  ])('$when', ({ served, now, reason }) => {
    expect(serverRenewalReason(served, trust, now)).toBe(reason);
  });
});

describe('rotationRefusal', () => {
  it.each([
    { when: 'a rotation without one in progress is allowed', records: { signing: OLD }, overlap: 3600, now: at(0), refused: undefined },
    { when: 'a rotation after the previous overlap ended is allowed', records: { signing: NEW, retiring: { ca: OLD, retiresAt: at(10) } }, overlap: 3600, now: at(10), refused: undefined },
    { when: 'a rotation during an overlap is refused with its end', records: { signing: NEW, retiring: { ca: OLD, retiresAt: at(10) } }, overlap: 3600, now: at(9), refused: /in progress.*2026-12-06T00:00:10/ },
    { when: 'a zero overlap is refused', records: { signing: OLD }, overlap: 0, now: at(0), refused: /from 1 to/ },
    { when: 'an overlap over a year is refused', records: { signing: OLD }, overlap: 366 * 86_400, now: at(0), refused: /365 days/ },
    { when: 'a fractional overlap is refused', records: { signing: OLD }, overlap: 1.5, now: at(0), refused: /integer/ },
  ])('$when', ({ records, overlap, now, refused }) => {
    const reason = rotationRefusal(records, overlap, now);
    if (refused === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(refused);
  });
});
