import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clusterUri, issueClientCertificate, publicKeyOfRequest, verifyClientCertificate } from './client-certificates';
import { createCertificateAuthority, issueServerCertificate, loadSigningCa, type SigningCa } from './x509';

type CryptoKey = webcrypto.CryptoKey;
const NOW = new Date('2026-06-01T12:00:00Z');
const DAY_MS = 86_400_000;
const DAY_SECONDS = 86_400;

async function newCa(): Promise<{ ca: SigningCa; pem: string }> {
  const generated = await createCertificateAuthority(NOW);
  return { ca: await loadSigningCa(generated.certificatePem, generated.privateKeyPkcs8, NOW), pem: generated.certificatePem };
}

async function request(commonName: string, curve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): Promise<Uint8Array> {
  const algorithm = { name: 'ECDSA', namedCurve: curve, hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: algorithm });
  return new Uint8Array(csr.rawData);
}

/** The same request with one byte of its signature flipped. */
function tampered(csr: Uint8Array): Uint8Array {
  const copy = new Uint8Array(csr);
  copy[copy.length - 3] = copy[copy.length - 3]! ^ 0xff;
  return copy;
}

describe('certificate requests', () => {
  const cases: { name: string; csr: () => Promise<Uint8Array>; error?: string }[] = [
    { name: 'a P-256 request signed by its key is accepted', csr: () => request('edge-1') },
    { name: 'a P-384 request is accepted', csr: () => request('edge-1', 'P-384') },
    { name: 'an empty request is refused', csr: async () => new Uint8Array(), error: 'empty' },
    { name: 'bytes that are no request are refused', csr: async () => new Uint8Array([1, 2, 3, 4]), error: 'not a DER PKCS#10' },
    { name: 'a request whose signature does not match its key is refused', csr: async () => tampered(await request('edge-1')), error: 'not signed by its key' },
    { name: 'a P-521 request is refused', csr: () => request('edge-1', 'P-521'), error: 'P-256 or P-384' },
    { name: 'an oversized request is refused unread', csr: async () => new Uint8Array(5000), error: 'larger than' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const csr = await c.csr();
      if (c.error) await expect(publicKeyOfRequest(csr)).rejects.toThrow(c.error);
      else await expect(publicKeyOfRequest(csr)).resolves.toBeDefined();
    });
  }
});

describe('client certificates', () => {
  it('name the cluster given by the caller, never the one the request asks for', async () => {
    const { ca, pem } = await newCa();
    const issued = await issueClientCertificate(ca, await request('edge-10'), 'edge-1', NOW, 30 * DAY_SECONDS);
    const certificate = new X509Certificate(issued.certificatePem);
    expect(certificate.subject).toBe('CN=edge-1');
    expect(certificate.subjectAltName).toBe(`URI:${clusterUri('edge-1')}`);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(certificate.ca).toBe(false);
    expect(certificate.verify(new X509Certificate(pem).publicKey)).toBe(true);
    expect(issued.notAfter.getTime()).toBe(NOW.getTime() + 30 * DAY_MS);
    expect(new Date(certificate.validTo).getTime()).toBe(issued.notAfter.getTime());
  });

  it.each([
    { name: 'a 60-second certificate is backdated by a tenth of its lifetime, so that its renewal point (2/3) falls after issuance', seconds: 60, backdateMs: 6_000 },
    { name: 'a 30-day certificate is backdated by 5 minutes', seconds: 30 * DAY_SECONDS, backdateMs: 5 * 60_000 },
  ])('$name', async ({ seconds, backdateMs }) => {
    const { ca } = await newCa();
    const certificate = new X509Certificate((await issueClientCertificate(ca, await request('edge-1'), 'edge-1', NOW, seconds)).certificatePem);
    const notBeforeMs = new Date(certificate.validFrom).getTime();
    const notAfterMs = new Date(certificate.validTo).getTime();
    expect(notBeforeMs).toBe(NOW.getTime() - backdateMs);
    expect(notAfterMs).toBe(NOW.getTime() + seconds * 1000);
    expect(notBeforeMs + ((notAfterMs - notBeforeMs) * 2) / 3).toBeGreaterThan(NOW.getTime());
  });

  it('carry the key of the request', async () => {
    const { ca } = await newCa();
    const csr = await request('edge-1');
    const issued = await issueClientCertificate(ca, csr, 'edge-1', NOW, 30 * DAY_SECONDS);
    const requested = Buffer.from(await webcrypto.subtle.exportKey('spki', (await publicKeyOfRequest(csr)) as unknown as CryptoKey));
    expect(new X509Certificate(issued.certificatePem).publicKey.export({ type: 'spki', format: 'der' }).equals(requested)).toBe(true);
  });

  it('are not issued for something that is not a cluster name', async () => {
    const { ca } = await newCa();
    await expect(issueClientCertificate(ca, await request('x'), 'Edge 1, O=evil', NOW, 30 * DAY_SECONDS)).rejects.toThrow('not a cluster name');
  });

  describe('checked on their own', () => {
    const cases: { name: string; at: (notAfter: Date) => Date; otherCa?: boolean; server?: boolean; expected: string }[] = [
      { name: 'a certificate of the CA within its lifetime names its cluster', at: () => NOW, expected: 'valid:edge-1' },
      { name: 'a certificate of another CA is refused', at: () => NOW, otherCa: true, expected: 'refused:not issued by the agent-link CA' },
      { name: 'an expired certificate is refused', at: (notAfter) => new Date(notAfter.getTime() + 1), expected: 'refused:expired' },
      { name: 'a certificate at its notAfter is refused', at: (notAfter) => notAfter, expected: 'refused:expired' },
      { name: 'a certificate before its notBefore is refused', at: () => new Date(NOW.getTime() - DAY_MS), expected: 'refused:not yet valid' },
      { name: 'a server certificate of the CA is refused', at: () => NOW, server: true, expected: 'refused:not a client certificate' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { ca, pem } = await newCa();
        const other = await newCa();
        const issuer = c.otherCa ? other.ca : ca;
        let der: Buffer;
        let notAfter: Date;
        if (c.server) {
          const server = await issueServerCertificate(issuer, [{ kind: 'dns', value: 'edge-1' }], NOW, 30, 'edge-1');
          der = new X509Certificate(server.certificatePem).raw;
          notAfter = server.notAfter;
        } else {
          const issued = await issueClientCertificate(issuer, await request('edge-1'), 'edge-1', NOW, 30 * DAY_SECONDS);
          der = new X509Certificate(issued.certificatePem).raw;
          notAfter = issued.notAfter;
        }
        const check = verifyClientCertificate(der, [pem], c.at(notAfter));
        const outcome = check.kind === 'valid' ? `valid:${check.clusterName}` : `refused:${check.reason}`;
        expect(outcome.startsWith(c.expected), outcome).toBe(true);
      });
    }
  });
});
