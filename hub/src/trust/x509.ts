// @peculiar/x509 reads decorator metadata at import: reflect-metadata must be loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeCertificate, createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type { SubjectAltName } from '../core/tls/server-names';

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyImportParams = webcrypto.EcKeyImportParams;
type RsaHashedImportParams = webcrypto.RsaHashedImportParams;

x509.cryptoProvider.set(webcrypto);

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Tolerates clocks of agents that run a little behind the hub's. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** Lifetime of a CA the hub generates for itself. */
export const CA_LIFETIME_DAYS = 3650;

/** A CA that can sign: its certificate(s) and the private key, as a WebCrypto key that cannot be exported. */
export interface SigningCa {
  /** PEM of every certificate agents must trust (the signing CA first). */
  readonly bundlePem: string;
  readonly certificate: x509.X509Certificate;
  readonly signingKey: CryptoKey;
  readonly signingAlgorithm: EcdsaParams | Algorithm;
  /** sha256 of the signing CA certificate's DER, hex: safe to log. */
  readonly fingerprint: string;
}

/** A freshly generated CA: its certificate, and its private key as PKCS#8 DER (to be encrypted before it is stored). */
export interface GeneratedCa {
  readonly certificatePem: string;
  readonly privateKeyPkcs8: Buffer;
}

/** A server certificate and its private key, both PEM, for `ServerCredentials.createSsl`. */
export interface ServerIdentity {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
}

/** Generates an ECDSA P-256 CA, self-signed, valid {@link CA_LIFETIME_DAYS} days from `now`. */
export async function createCertificateAuthority(now: Date, commonName = 'Flotilla agent-link CA'): Promise<GeneratedCa> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  const privateKeyPkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  return { certificatePem: `${certificate.toString('pem')}\n`, privateKeyPkcs8 };
}

/**
 * Makes a signing CA from a certificate bundle (PEM; the first certificate signs) and its private
 * key (PKCS#8 DER, or any PEM Node reads: PKCS#8, SEC1, PKCS#1). Throws when the first certificate is
 * not a CA, is expired at `now`, or does not belong to the key. EC P-256/P-384 and RSA keys sign.
 */
export async function loadSigningCa(bundlePem: string, privateKey: Buffer | string, now: Date): Promise<SigningCa> {
  const pems = splitCertificates(bundlePem);
  if (pems.length === 0) throw new Error('no PEM certificate found');
  const first = new NodeCertificate(pems[0]!);
  if (!first.ca) throw new Error('the first certificate is not a CA (basicConstraints CA:TRUE is missing)');
  if (new Date(first.validTo).getTime() <= now.getTime()) throw new Error(`the CA certificate expired on ${new Date(first.validTo).toISOString()}`);
  const keyObject = typeof privateKey === 'string' ? createPrivateKey(privateKey) : createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' });
  const certificateSpki = first.publicKey.export({ type: 'spki', format: 'der' });
  const keySpki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  if (!certificateSpki.equals(keySpki)) throw new Error('the private key does not belong to the CA certificate');
  const { importAlgorithm, signingAlgorithm } = algorithmsOf(keyObject);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const signingKey = (await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlgorithm, false, ['sign'])) as unknown as CryptoKey;
  return {
    bundlePem: pems.join(''),
    certificate: new x509.X509Certificate(pems[0]!),
    signingKey,
    signingAlgorithm,
    fingerprint: createHash('sha256').update(first.raw).digest('hex'),
  };
}

/**
 * Issues a TLS server certificate (ECDSA P-256, serverAuth) for `names`, signed by `ca`, valid from
 * a few minutes before `now` for `lifetimeDays`. The private key is generated here and never stored.
 */
export async function issueServerCertificate(ca: SigningCa, names: readonly SubjectAltName[], now: Date, lifetimeDays: number, commonName = 'Flotilla hub agent link'): Promise<ServerIdentity> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const notAfter = new Date(now.getTime() + lifetimeDays * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName}`,
    issuer: ca.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey as CryptoKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((name) => ({ type: name.kind, value: name.value }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certificatePem: `${certificate.toString('pem')}\n`, privateKeyPem, notAfter };
}

/** The PEM certificates of a bundle, each normalised to end with a newline; other text is dropped. */
export function splitCertificates(bundlePem: string): string[] {
  return (bundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => `${pem}\n`);
}

/** A positive 128-bit serial number, hex (RFC 5280 allows up to 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function algorithmsOf(key: KeyObject): { importAlgorithm: EcKeyImportParams | RsaHashedImportParams; signingAlgorithm: EcdsaParams | Algorithm } {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && (details?.namedCurve === 'prime256v1' || details?.namedCurve === 'secp384r1')) {
    const namedCurve = details.namedCurve === 'prime256v1' ? 'P-256' : 'P-384';
    const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
    return { importAlgorithm: { name: 'ECDSA', namedCurve }, signingAlgorithm: { name: 'ECDSA', hash } as EcdsaParams };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return { importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}${details?.namedCurve ? ` (${details.namedCurve})` : ''}: use EC P-256, P-384 or RSA`);
}
