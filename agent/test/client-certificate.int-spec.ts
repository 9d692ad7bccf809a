import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningAgent } from '../src/agent.js';
import type { Clock } from '../src/clock.js';
import { systemClock } from '../src/clock.js';
import { certificateRequest, hasUsableCertificate, newClientKey, type ClientIdentity } from '../src/hub-link/client-identity.js';
import { SimDriver } from '../src/sim/sim-driver.js';
import { useAgentLab } from './support/agent-lab.js';
import { eventually } from './support/eventually.js';
import { FakeHub, defaultPki } from './support/fake-hub.js';
import { ManualClock } from './support/manual-clock.js';
import { readRequest, signClientCertificate } from './support/test-pki.js';

const DAY_MS = 86_400_000;

describe('client certificates of the gRPC link', () => {
  // The private key never reaches the log.
  const lab = useAgentLab('flotilla-agent-certs-', /PRIVATE KEY/);

  const signingHub = (): Promise<FakeHub> => lab.startHub({ signCertificate: (csrDer) => signClientCertificate(defaultPki(), csrDer, 'edge-1') });

  const runAgent = (address: string, clock: Clock = systemClock): Promise<RunningAgent> =>
    lab.startAgent(lab.config({ FLOTILLA_HUB_CA: defaultPki().caPem, FLOTILLA_HUB_ADDRESS: address, FLOTILLA_BOOTSTRAP_TOKEN: 'bt-cert-secret', FLOTILLA_RECONNECT_MAX_MS: '300' }), {
      clock,
      driver: new SimDriver({ healthyAfterMs: 100, failApps: [], clock: systemClock }),
      link: { reconnectBaseMs: 50, welcomeTimeoutMs: 2000 },
    });

  const storedIdentity = async (): Promise<ClientIdentity> => JSON.parse(await readFile(join(lab.stateDir, 'client-identity.json'), 'utf8')) as ClientIdentity;
  const spki = (key: Parameters<typeof createPublicKey>[0]) => createPublicKey(key).export({ type: 'spki', format: 'pem' });

  it('builds a CSR that openssl verifies, for the key it was given and the name it was asked', () => {
    const key = newClientKey();
    const read = readRequest(certificateRequest(createPrivateKey(key), 'edge-1'));
    expect(read).toMatchObject({ verified: true, subject: 'CN = edge-1' });
    expect(read.publicKeyPem).toBe(spki(key));
    expect(createPrivateKey(key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it.each([
    { name: 'a certificate within its lifetime, for its key, is usable', at: (c: X509Certificate) => new Date(c.validFrom).getTime() + 1000, otherKey: false, usable: true },
    { name: 'an expired certificate is not usable', at: (c: X509Certificate) => new Date(c.validTo).getTime(), otherKey: false, usable: false },
    { name: 'a certificate before its notBefore is not usable', at: (c: X509Certificate) => new Date(c.validFrom).getTime() - 1, otherKey: false, usable: false },
    { name: 'a certificate for another key is not usable', at: (c: X509Certificate) => new Date(c.validFrom).getTime() + 1000, otherKey: true, usable: false },
  ])('$name', ({ at, otherKey, usable }) => {
    const key = newClientKey();
    const certificatePem = signClientCertificate(defaultPki(), certificateRequest(createPrivateKey(key), 'edge-1'), 'edge-1');
    const identity = { privateKeyPem: otherKey ? newClientKey() : key, certificatePem };
    expect(hasUsableCertificate(identity, at(new X509Certificate(certificatePem)))).toBe(usable);
  });

  it('generates its key in the state store before the CSR leaves, enrolls with the bootstrap token, then presents the certificate and no token', async () => {
    const hub = await signingHub();
    const agent = await runAgent(hub.address);

    const hello = await eventually(() => hub.last.hello ?? expect.fail('no Hello yet'));
    expect(hub.last.token).toBe('bt-cert-secret');
    expect(hub.last.peerCertificate).toBeUndefined();
    const requested = readRequest(hello.csrDer);
    expect(requested.verified).toBe(true);
    // The key was durable before the CSR was sent, and it is the CSR's key.
    const key = (await storedIdentity()).privateKeyPem;
    expect(requested.publicKeyPem).toBe(spki(key));
    expect((await stat(join(lab.stateDir, 'client-identity.json'))).mode & 0o777).toBe(0o600);

    await eventually(async () => expect((await storedIdentity()).certificatePem).toBeDefined());
    const enrolled = await storedIdentity();
    expect(enrolled.privateKeyPem).toBe(key);
    expect(new X509Certificate(enrolled.certificatePem!).subject).toBe('CN=edge-1');
    await eventually(() => expect(agent.link.isConnected()).toBe(true));

    hub.last.end();
    await eventually(() => expect(hub.connections.length).toBeGreaterThanOrEqual(2));
    const second = hub.connections[1]!;
    await eventually(() => second.hello ?? expect.fail('no second Hello yet'));
    expect(second.token).toBeUndefined();
    expect(second.hello!.csrDer).toHaveLength(0);
    expect(second.peerCertificate?.subject.CN).toBe('edge-1');
    expect(second.peerCertificate?.fingerprint256).toBe(new X509Certificate(enrolled.certificatePem!).fingerprint256);
  });

  it('renews at two thirds of the lifetime over the stream, stores the new key and certificate, and reconnects with them', async () => {
    const hub = await signingHub();
    const clock = new ManualClock(Date.now());
    await runAgent(hub.address, clock);
    await eventually(async () => expect((await storedIdentity()).certificatePem).toBeDefined());
    const first = await storedIdentity();
    const certificate = new X509Certificate(first.certificatePem!);
    const lifetimeMs = new Date(certificate.validTo).getTime() - new Date(certificate.validFrom).getTime();
    const dueAt = new Date(certificate.validFrom).getTime() + (lifetimeMs * 2) / 3;

    clock.advance(dueAt - clock.now() - 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hub.connections[0]!.received.some((m) => m.message.case === 'renewCertificate'), 'not a minute early').toBe(false);

    clock.advance(60_000);
    // A renewal makes a key and a CSR and round-trips the hub: on a loaded machine that takes more than the default 3 s.
    await eventually(() => expect(hub.connections[0]!.received.some((m) => m.message.case === 'renewCertificate')).toBe(true), { timeoutMs: 20_000 });
    await eventually(async () => expect((await storedIdentity()).certificatePem).not.toBe(first.certificatePem), { timeoutMs: 20_000 });
    const renewed = await storedIdentity();
    expect(renewed.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(spki(renewed.privateKeyPem)).toBe(new X509Certificate(renewed.certificatePem!).publicKey.export({ type: 'spki', format: 'pem' }));

    await eventually(() => expect(hub.connections.length).toBeGreaterThanOrEqual(2));
    const next = hub.connections[1]!;
    await eventually(() => next.hello ?? expect.fail('no Hello after the renewal'));
    expect(next.token).toBeUndefined();
    expect(next.peerCertificate?.fingerprint256).toBe(new X509Certificate(renewed.certificatePem!).fingerprint256);
    expect(lifetimeMs).toBeGreaterThan(DAY_MS);
  });
});
