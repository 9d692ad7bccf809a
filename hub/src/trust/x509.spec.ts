import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate, loadSigningCa, splitCertificates } from './x509';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY_MS = 86_400_000;

describe('the agent-link CA', () => {
  it('is a self-signed ECDSA P-256 CA valid for ten years', async () => {
    const generated = await createCertificateAuthority(NOW);
    const certificate = new X509Certificate(generated.certificatePem);
    expect(certificate.ca).toBe(true);
    expect(certificate.checkIssued(certificate)).toBe(true);
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(NOW.getTime() + 3649 * DAY_MS);
    expect(createPrivateKey({ key: generated.privateKeyPkcs8, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ec');
  });

  it('issues a server certificate for exactly the given names, signed by the CA, for the given days', async () => {
    const generated = await createCertificateAuthority(NOW);
    const ca = await loadSigningCa(generated.certificatePem, generated.privateKeyPkcs8, NOW);

    const identity = await issueServerCertificate(
      ca,
      [
        { kind: 'dns', value: 'localhost' },
        { kind: 'ip', value: '127.0.0.1' },
        { kind: 'ip', value: '::1' },
      ],
      NOW,
      30,
    );

    const server = new X509Certificate(identity.certificatePem);
    const issuer = new X509Certificate(generated.certificatePem);
    expect(server.checkIssued(issuer)).toBe(true);
    expect(server.verify(issuer.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkPrivateKey(createPrivateKey(identity.privateKeyPem))).toBe(true);
    expect(identity.notAfter).toEqual(new Date(NOW.getTime() + 30 * DAY_MS));
    // Backdated a little for agents whose clocks run behind.
    expect(new Date(server.validFrom).getTime()).toBeLessThan(NOW.getTime());
  });

  it('signs with an operator-supplied RSA CA read from PEM', async () => {
    const ca = await operatorCa('rsa');
    const identity = await issueServerCertificate(await loadSigningCa(ca.certificatePem, ca.keyPem, NOW), [{ kind: 'dns', value: 'hub.example.com' }], NOW, 1);
    expect(new X509Certificate(identity.certificatePem).verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
  });

  it.each([
    { name: 'a key that belongs to another certificate', load: async () => loadSigningCa((await createCertificateAuthority(NOW)).certificatePem, (await createCertificateAuthority(NOW)).privateKeyPkcs8, NOW), message: /does not belong/ },
    { name: 'a CA that has expired', load: async () => { const g = await createCertificateAuthority(NOW); return loadSigningCa(g.certificatePem, g.privateKeyPkcs8, new Date(NOW.getTime() + 4000 * DAY_MS)); }, message: /expired/ },
    { name: 'a certificate that is not a CA', load: async () => { const g = await createCertificateAuthority(NOW); const ca = await loadSigningCa(g.certificatePem, g.privateKeyPkcs8, NOW); const leaf = await issueServerCertificate(ca, [{ kind: 'dns', value: 'x' }], NOW, 1); return loadSigningCa(leaf.certificatePem, leaf.privateKeyPem, NOW); }, message: /not a CA/ },
    { name: 'text without a certificate', load: () => loadSigningCa('nothing here', 'nor here', NOW), message: /no PEM certificate/ },
  ])('refuses $name', async ({ load, message }) => {
    await expect(load()).rejects.toThrow(message);
  });

  it('splits a bundle into its certificates and drops anything else', async () => {
    const a = (await createCertificateAuthority(NOW)).certificatePem;
    const b = (await createCertificateAuthority(NOW)).certificatePem;
    expect(splitCertificates(`# comment\n${a.trim()}\n\nnoise\n${b}`)).toEqual([a, b].map((pem) => `${pem.trim()}\n`));
  });
});

/** A CA as an operator would make it outside the hub: an RSA key and a self-signed certificate (issued by the hub's own code, then re-read from PEM). */
async function operatorCa(kind: 'rsa'): Promise<{ certificatePem: string; keyPem: string }> {
  const { privateKey } = generateKeyPairSync(kind, { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const x509 = await import('@peculiar/x509');
  const { webcrypto } = await import('node:crypto');
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', (await import('node:crypto')).createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), algorithm, true, ['verify']),
  };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Operator CA',
    notBefore: new Date(NOW.getTime() - DAY_MS),
    notAfter: new Date(NOW.getTime() + 365 * DAY_MS),
    keys: keys as never,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { certificatePem: certificate.toString('pem'), keyPem };
}
