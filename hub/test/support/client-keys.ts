import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { clusterUri } from '../../src/trust/client-certificates';

type CryptoKey = webcrypto.CryptoKey;
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A client key (PEM, for grpc-js) and its CryptoKeys. */
export interface ClientKey {
  readonly keyPem: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

/** A new ECDSA P-256 key, as an agent generates in its cluster. */
export async function newClientKey(): Promise<ClientKey> {
  const keys = (await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as CryptoKey));
  return { keys, keyPem: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** A PKCS#10 request (DER) for `key` asking for `CN=<commonName>` (the hub ignores the subject). */
export async function certificateRequest(key: ClientKey, commonName: string): Promise<Uint8Array> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys: key.keys, signingAlgorithm: ECDSA_P256 });
  return new Uint8Array(csr.rawData);
}

/** A self-signed client certificate shaped like the hub's (CN and URI SAN of `cluster`), from no CA the hub knows. */
export async function selfSignedClientCertificate(key: ClientKey, cluster: string, now = new Date()): Promise<string> {
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    name: `CN=${cluster}`,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + DAY_MS),
    keys: key.keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: clusterUri(cluster) }]),
    ],
  });
  return `${certificate.toString('pem')}\n`;
}
