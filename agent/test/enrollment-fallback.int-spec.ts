import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RefusalSchema, create } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import type { RunningAgent } from '../src/agent.js';
import { systemClock } from '../src/clock.js';
import { tokenFingerprint, type ClientIdentity } from '../src/hub-link/client-identity.js';
import { SimDriver } from '../src/sim/sim-driver.js';
import { useAgentLab } from './support/agent-lab.js';
import { eventually } from './support/eventually.js';
import { FakeHub, defaultPki, type FakeConnection } from './support/fake-hub.js';
import { signClientCertificate } from './support/test-pki.js';

/**
 * An agent whose stored certificate the hub refuses (a hub started on a fresh database, a cluster
 * registered again) while it holds a bootstrap token it has not used: it must enroll with that token,
 * and must not give up its identity for a token it already spent.
 */
describe('a refused stored identity and the bootstrap token', () => {
  // Neither the token nor the key reaches the log.
  const lab = useAgentLab('flotilla-agent-fallback-', /PRIVATE KEY|bt-old-secret|bt-new-secret/);

  const refuse = (connection: FakeConnection, message: string): 'none' => {
    connection.send({ case: 'refusal', value: create(RefusalSchema, { code: 'UNAUTHENTICATED', message, retryable: false }) });
    connection.end();
    return 'none';
  };

  /**
   * A hub that signs enrollments with `acceptedToken` and refuses everything else: certificates it
   * did not issue itself, and other tokens.
   */
  const hub = async (acceptedToken: string | undefined): Promise<FakeHub & { seen: { token: string | undefined; certificate: string | undefined }[] }> => {
    const issued = new Set<string>();
    /** Per stream, as the hub saw it at Hello: the token and the fingerprint of the certificate presented. */
    const seen: { token: string | undefined; certificate: string | undefined }[] = [];
    const started = await lab.startHub({
      signCertificate: (csrDer) => {
        const pem = signClientCertificate(defaultPki(), csrDer, 'edge-1');
        issued.add(new X509Certificate(pem).fingerprint256);
        return pem;
      },
      welcome: (connection) => {
        const presented = connection.peerCertificate;
        seen.push({ token: connection.token, certificate: presented?.fingerprint256 });
        if (presented !== undefined) return issued.has(presented.fingerprint256) ? {} : refuse(connection, 'The agent credential is not valid for this cluster.');
        return connection.token === acceptedToken ? {} : refuse(connection, 'The bootstrap token is not valid.');
      },
    });
    return Object.assign(started, { seen });
  };

  const runAgent = (address: string, bootstrapToken: string): Promise<RunningAgent> =>
    lab.startAgent(lab.config({ FLOTILLA_HUB_CA: defaultPki().caPem, FLOTILLA_HUB_ADDRESS: address, FLOTILLA_BOOTSTRAP_TOKEN: bootstrapToken, FLOTILLA_RECONNECT_MAX_MS: '200' }), {
      clock: systemClock,
      driver: new SimDriver({ healthyAfterMs: 100, failApps: [], clock: systemClock }),
      link: { reconnectBaseMs: 20, welcomeTimeoutMs: 2000 },
    });

  const storedIdentity = async (): Promise<ClientIdentity> => JSON.parse(await readFile(join(lab.stateDir, 'client-identity.json'), 'utf8')) as ClientIdentity;

  /** Given an agent that enrolled with bt-old-secret at a first hub, and stopped. */
  const enrolledAtAFirstHub = async (): Promise<ClientIdentity> => {
    const first = await hub('bt-old-secret');
    const agent = await runAgent(first.address, 'bt-old-secret');
    await eventually(() => expect(agent.link.isConnected()).toBe(true));
    const identity = await storedIdentity();
    expect(identity.enrolledWith).toBe(tokenFingerprint('bt-old-secret'));
    await lab.stopAgent(agent);
    first.stop();
    return identity;
  };

  it('enrolls with a bootstrap token it has not used when the hub refuses its stored certificate, then presents the new certificate', async () => {
    const before = await enrolledAtAFirstHub();
    const fresh = await hub('bt-new-secret');
    const agent = await runAgent(fresh.address, 'bt-new-secret');

    await eventually(() => expect(agent.link.isConnected()).toBe(true), { timeoutMs: 10_000 });
    // The old certificate was refused first; the enrollment came right after, with the new token and a CSR.
    expect(fresh.seen.slice(0, 2)).toEqual([
      { token: undefined, certificate: new X509Certificate(before.certificatePem!).fingerprint256 },
      { token: 'bt-new-secret', certificate: undefined },
    ]);
    const enrollment = fresh.connections.find((c) => c.token === 'bt-new-secret')!;
    expect(enrollment.hello!.csrDer.length).toBeGreaterThan(0);
    const after = await eventually(async () => {
      const identity = await storedIdentity();
      expect(identity.enrolledWith).toBe(tokenFingerprint('bt-new-secret'));
      return identity;
    });
    expect(after.privateKeyPem).not.toBe(before.privateKeyPem);
    expect(after.certificatePem).not.toBe(before.certificatePem);
    expect(JSON.stringify(after)).not.toContain('bt-new-secret');

    // The next stream presents the new certificate and no token.
    fresh.last.end();
    const next = await eventually(() => {
      const latest = fresh.connections.at(-1);
      if (latest === enrollment || latest?.hello === undefined) throw new Error('no new stream yet');
      return latest;
    });
    expect(next.token).toBeUndefined();
    expect(fresh.seen.at(-1)).toEqual({ token: undefined, certificate: new X509Certificate(after.certificatePem!).fingerprint256 });
  });

  it('does not trade its refused certificate for the token it was enrolled with', async () => {
    const before = await enrolledAtAFirstHub();
    const revoking = await hub('bt-old-secret');
    await runAgent(revoking.address, 'bt-old-secret');

    await eventually(() => expect(revoking.connections.filter((c) => c.hello !== undefined).length).toBeGreaterThanOrEqual(4), { timeoutMs: 10_000 });
    expect(revoking.connections.filter((c) => c.token !== undefined)).toEqual([]);
    expect((await storedIdentity()).certificatePem).toBe(before.certificatePem);
  });

  it('tries an unused token once: when the hub refuses it too, the agent goes on with what it has and does not retry the token', async () => {
    const before = await enrolledAtAFirstHub();
    const strict = await hub(undefined);
    await runAgent(strict.address, 'bt-new-secret');

    await eventually(() => expect(strict.seen.length).toBeGreaterThanOrEqual(5), { timeoutMs: 10_000 });
    expect(strict.seen.filter((s) => s.token === 'bt-new-secret')).toHaveLength(1);
    // It kept its stored certificate, and presents it again.
    expect((await storedIdentity()).certificatePem).toBe(before.certificatePem);
    expect(strict.seen.at(-1)).toEqual({ token: undefined, certificate: new X509Certificate(before.certificatePem!).fingerprint256 });
    expect(lab.logLines.some((line) => line.includes('enrolling with the bootstrap token'))).toBe(true);
  });
});
