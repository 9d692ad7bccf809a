import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * The agent's client identity on the gRPC link: an ECDSA P-256 key generated in the cluster (it never
 * leaves it: the hub only sees a CSR) and the certificate the hub signed for it. Pure helpers; the
 * link decides when to enroll and renew, the state store keeps the identity.
 */

/** What the state store keeps: the key, and once the hub answered, its certificate and the CA bundle. */
export interface ClientIdentity {
  readonly privateKeyPem: string;
  readonly certificatePem?: string | undefined;
  readonly caBundlePem?: string | undefined;
  /**
   * {@link tokenFingerprint} of the bootstrap token the certificate was enrolled with: a configured
   * token with another fingerprint has not been used by this agent yet.
   */
  readonly enrolledWith?: string | undefined;
}

/** A bootstrap token's fingerprint, kept instead of the token (sha256, hex): never the token itself. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Validity of a certificate, milliseconds since the Unix epoch. */
export interface CertificateLifetime {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** A new ECDSA P-256 private key, PEM (PKCS#8). */
export function newClientKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * A PKCS#10 certificate request (DER) for `key`, signed with it (ECDSA with SHA-256), asking for
 * `CN=<commonName>`. The hub takes only the public key from it: the subject is informative.
 */
export function certificateRequest(key: KeyObject, commonName: string): Buffer {
  const subject = sequence(set(sequence(COMMON_NAME_OID, tlv(0x0c, Buffer.from(commonName, 'utf8')))));
  const publicKeyInfo = createPublicKey(key).export({ type: 'spki', format: 'der' });
  // version 0, subject, subjectPKInfo, attributes [0] (none)
  const info = sequence(tlv(0x02, Buffer.from([0])), subject, publicKeyInfo, Buffer.from([0xa0, 0x00]));
  const signature = sign('sha256', info, { key, dsaEncoding: 'der' });
  return sequence(info, sequence(ECDSA_WITH_SHA256_OID), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

/** The validity of a PEM certificate; throws when it cannot be read. */
export function certificateLifetime(certificatePem: string): CertificateLifetime {
  const certificate = new X509Certificate(certificatePem);
  return { notBeforeMs: new Date(certificate.validFrom).getTime(), notAfterMs: new Date(certificate.validTo).getTime() };
}

/** When to renew: once two thirds of the lifetime have passed (a third is left to retry in). */
export function renewalDueAtMs(lifetime: CertificateLifetime): number {
  return lifetime.notBeforeMs + Math.floor(((lifetime.notAfterMs - lifetime.notBeforeMs) * 2) / 3);
}

/** True when `identity` holds a certificate that is valid at `nowMs` and belongs to its key. */
export function hasUsableCertificate(identity: ClientIdentity | undefined, nowMs: number): identity is ClientIdentity & { certificatePem: string } {
  if (identity?.certificatePem === undefined) return false;
  try {
    const lifetime = certificateLifetime(identity.certificatePem);
    return nowMs >= lifetime.notBeforeMs && nowMs < lifetime.notAfterMs && new X509Certificate(identity.certificatePem).checkPrivateKey(privateKeyOf(identity));
  } catch {
    return false;
  }
}

/** The private key of an identity as a KeyObject. */
export function privateKeyOf(identity: ClientIdentity): KeyObject {
  return createPrivateKey(identity.privateKeyPem);
}

/** OID 2.5.4.3 (commonName). */
const COMMON_NAME_OID = Buffer.from('0603550403', 'hex');
/** OID 1.2.840.10045.4.3.2 (ecdsa-with-SHA256). */
const ECDSA_WITH_SHA256_OID = Buffer.from('06082a8648ce3d040302', 'hex');

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80 ? Buffer.from([tag, length]) : length < 0x100 ? Buffer.from([tag, 0x81, length]) : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, content]);
}

function sequence(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function set(...parts: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(parts));
}
