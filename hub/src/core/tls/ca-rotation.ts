/**
 * Which agent-link CA does what at a given moment, decided without I/O.
 *
 * A rotation keeps two CAs for an overlap window: the NEW one signs every client certificate issued
 * from the start of the rotation, while the RETIRING one keeps signing the hub's server certificates
 * (agents that have not yet learnt the new CA still verify the hub) and stays trusted for the client
 * certificates it signed. Both are in the bundle agents are given. When the window ends, the retiring
 * CA leaves the bundle and the trust, and every replica re-issues its server certificate from the new
 * CA; agents that renewed (or reconnected) during the window trust it already.
 */

/** A CA as the rotation logic sees it. */
export interface CaSummary {
  /** sha256 of the CA certificate's DER, hex. */
  readonly fingerprint: string;
}

/** The CAs on record: the signing one, the one being retired with the end of its overlap, and extra trusted ones (operator-supplied). */
export interface CaRecords<Ca extends CaSummary, Trusted extends CaSummary = Ca> {
  readonly signing: Ca;
  readonly retiring?: { readonly ca: Ca; readonly retiresAt: Date } | undefined;
  readonly extraTrusted?: readonly Trusted[] | undefined;
}

/** What each CA does now. */
export interface EffectiveTrust<Ca extends CaSummary, Trusted extends CaSummary = Ca> {
  /** Signs client certificates. */
  readonly clientSigner: Ca;
  /** Signs the hub's server certificates: the retiring CA while its overlap lasts, else the signing one. */
  readonly serverSigner: Ca;
  /** Every CA agents must trust and the hub accepts client certificates from, without duplicates, the client signer first. */
  readonly trusted: readonly (Ca | Trusted)[];
  /** The retiring CA's end of overlap, while it lasts. */
  readonly retiresAt: Date | undefined;
}

/** The effective trust at `now`: the retiring CA counts only strictly before its `retiresAt`. */
export function effectiveTrust<Ca extends CaSummary, Trusted extends CaSummary = Ca>(records: CaRecords<Ca, Trusted>, now: Date): EffectiveTrust<Ca, Trusted> {
  const retiring = records.retiring && now < records.retiring.retiresAt ? records.retiring : undefined;
  const trusted: (Ca | Trusted)[] = [];
  for (const ca of [records.signing, ...(retiring ? [retiring.ca] : []), ...(records.extraTrusted ?? [])]) {
    if (!trusted.some((t) => t.fingerprint === ca.fingerprint)) trusted.push(ca);
  }
  return { clientSigner: records.signing, serverSigner: retiring?.ca ?? records.signing, trusted, retiresAt: retiring?.retiresAt };
}

/** A string that changes whenever the effective trust does: compare two to know whether to act. */
export function trustKey(trust: EffectiveTrust<CaSummary>): string {
  return [trust.clientSigner.fingerprint, trust.serverSigner.fingerprint, ...trust.trusted.map((ca) => ca.fingerprint)].join(':');
}

/** The server certificate a replica currently serves. */
export interface ServedIdentity {
  /** Fingerprint of the CA that signed it. */
  readonly signerFingerprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Why a replica issues itself a new server certificate, or `undefined` to keep the one it serves. */
export type ServerRenewalReason = 'signer-changed' | 'renewal-due' | undefined;

/**
 * A replica re-issues its server certificate when another CA must sign it (a rotation's overlap ended)
 * or once two thirds of its lifetime have passed, as agents do with theirs.
 */
export function serverRenewalReason(served: ServedIdentity, trust: EffectiveTrust<CaSummary>, now: Date): ServerRenewalReason {
  if (served.signerFingerprint !== trust.serverSigner.fingerprint) return 'signer-changed';
  const lifetime = served.notAfter.getTime() - served.notBefore.getTime();
  return now.getTime() >= served.notBefore.getTime() + (lifetime * 2) / 3 ? 'renewal-due' : undefined;
}

/** Bounds of a rotation's overlap window, in seconds. */
export const MIN_OVERLAP_SECONDS = 1;
export const MAX_OVERLAP_SECONDS = 365 * 86_400;

/**
 * Why a rotation cannot start now, or `undefined`. A second rotation during an overlap would retire a
 * CA whose client certificates may not all have been replaced yet.
 */
export function rotationRefusal(records: CaRecords<CaSummary>, overlapSeconds: number, now: Date): string | undefined {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < MIN_OVERLAP_SECONDS || overlapSeconds > MAX_OVERLAP_SECONDS) {
    return `overlapSeconds must be an integer from ${MIN_OVERLAP_SECONDS} to ${MAX_OVERLAP_SECONDS} (365 days); got ${overlapSeconds}`;
  }
  if (records.retiring && now < records.retiring.retiresAt) {
    return `a rotation is in progress: the previous CA is trusted until ${records.retiring.retiresAt.toISOString()}; completeAgentLinkCARotation ends it earlier`;
  }
  return undefined;
}
