// @peculiar/x509 reads decorator metadata at import: reflect-metadata must be loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeCertificate, createHash, randomBytes, webcrypto } from 'node:crypto';
import type { SigningCa } from './x509';

type CryptoKey = webcrypto.CryptoKey;

/** Tolerates agents whose clocks run a little behind the hub's (capped at a tenth of the lifetime). */
const BACKDATE_MS = 5 * 60_000;
/** A CSR larger than this is not a P-256/P-384 request: refused before it is parsed. */
export const MAX_CSR_BYTES = 4096;
/** extendedKeyUsage id-kp-clientAuth. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The URI SAN that names a cluster in its client certificate. */
export function clusterUri(clusterName: string): string {
  return `urn:flotilla:cluster:${clusterName}`;
}

/** A client certificate the hub issued: what the agent gets, and what the hub stores to revoke it. */
export interface IssuedClientCertificate {
  readonly certificatePem: string;
  /** sha256 of the certificate's DER, hex: the key of its row. */
  readonly fingerprint: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
}

/**
 * Reads a PKCS#10 request (DER) and returns its public key, after checking the request is signed by
 * the key it carries (proof of possession). Only EC P-256 and P-384 keys are accepted. Whatever subject
 * or extensions the request asks for are ignored. Throws an Error with a reason safe to log.
 */
export async function publicKeyOfRequest(csrDer: Uint8Array): Promise<CryptoKey> {
  if (csrDer.length === 0) throw new Error('the certificate request is empty');
  if (csrDer.length > MAX_CSR_BYTES) throw new Error(`the certificate request is larger than ${MAX_CSR_BYTES} bytes`);
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(Buffer.from(csrDer));
  } catch {
    throw new Error('the certificate request is not a DER PKCS#10 request');
  }
  const algorithm = request.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (algorithm.name !== 'ECDSA' || (algorithm.namedCurve !== 'P-256' && algorithm.namedCurve !== 'P-384')) {
    throw new Error('the certificate request must be for an EC P-256 or P-384 key');
  }
  let signed = false;
  try {
    signed = await request.verify();
  } catch {
    signed = false;
  }
  if (!signed) throw new Error('the certificate request is not signed by its key');
  return (await request.publicKey.export()) as unknown as CryptoKey;
}

/**
 * Issues a client certificate (clientAuth) for the key of `csrDer`, signed by `ca`, valid from a few
 * minutes before `now` (at most a tenth of the lifetime) until `lifetimeSeconds` after `now`. Its
 * subject is `CN=<clusterName>` with the URI SAN {@link clusterUri}: the cluster is the caller's (the
 * one the bootstrap token or the stream names), never the request's. Throws when the request is unusable (see {@link publicKeyOfRequest}).
 */
export async function issueClientCertificate(ca: SigningCa, csrDer: Uint8Array, clusterName: string, now: Date, lifetimeSeconds: number): Promise<IssuedClientCertificate> {
  if (!CLUSTER_NAME.test(clusterName)) throw new Error('not a cluster name');
  const publicKey = await publicKeyOfRequest(csrDer);
  const serialNumber = newSerialNumber();
  const lifetimeMs = lifetimeSeconds * 1000;
  const notAfter = new Date(now.getTime() + lifetimeMs);
  // Agents renew at 2/3 of notBefore..notAfter: a 5-minute backdate on a 60-second certificate would put
  // that point before issuance and make every stream renew at once.
  const backdateMs = Math.min(BACKDATE_MS, Math.floor(lifetimeMs / 10));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: `CN=${clusterName}`,
    issuer: ca.certificate.subject,
    notBefore: new Date(now.getTime() - backdateMs),
    notAfter,
    publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: clusterUri(clusterName) }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  const der = Buffer.from(certificate.rawData);
  return { certificatePem: `${certificate.toString('pem')}\n`, fingerprint: fingerprintOf(der), serialNumber, notAfter };
}

/** The outcome of {@link verifyClientCertificate}: the cluster a certificate names, or why it is refused. */
export type ClientCertificateCheck =
  | { readonly kind: 'valid'; readonly clusterName: string; readonly fingerprint: string; readonly notAfter: Date; readonly issuerFingerprint: string }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * Checks a client certificate (DER, as TLS presented it) on its own: issued by one of the CA
 * certificates in `caPems` (signature checked), within its validity at `now`, for clientAuth, naming a
 * cluster in its CN that its URI SAN repeats. The TLS handshake already proved the peer holds its key;
 * whether the hub issued it and has not revoked it is the caller's check (by fingerprint).
 */
export function verifyClientCertificate(der: Uint8Array, caPems: readonly string[], now: Date): ClientCertificateCheck {
  let certificate: NodeCertificate;
  try {
    certificate = new NodeCertificate(Buffer.from(der));
  } catch {
    return { kind: 'refused', reason: 'unreadable certificate' };
  }
  const issuer = caPems.map((pem) => new NodeCertificate(pem)).find((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
  if (!issuer) return { kind: 'refused', reason: 'not issued by the agent-link CA' };
  if (certificate.ca) return { kind: 'refused', reason: 'a CA certificate' };
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (now < notBefore) return { kind: 'refused', reason: 'not yet valid' };
  if (now >= notAfter) return { kind: 'refused', reason: `expired on ${notAfter.toISOString()}` };
  if (!(certificate.keyUsage ?? []).includes(CLIENT_AUTH)) return { kind: 'refused', reason: 'not a client certificate' };
  const cn = /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? '';
  if (!CLUSTER_NAME.test(cn) || certificate.subjectAltName !== `URI:${clusterUri(cn)}`) return { kind: 'refused', reason: 'names no cluster' };
  return { kind: 'valid', clusterName: cn, fingerprint: fingerprintOf(Buffer.from(der)), notAfter, issuerFingerprint: fingerprintOf(issuer.raw) };
}

/** sha256 of a certificate's DER, hex. */
export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A positive 128-bit serial number, hex. */
function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}
