import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeToken, startOidcProvider, type ForgedTokenKind, type OidcTestProvider } from '../../test/harness/oidc.js';
import { looksLikeJwt, OIDC_DEFAULTS, OIDC_REFUSALS, OidcTokenRefused, OidcVerifier, type OidcConfig } from '../src/auth/oidc-verifier';
import { eventually } from './support/graphql-client';

const AUDIENCE = 'flotilla-hub';

function configFor(provider: OidcTestProvider, overrides: Partial<OidcConfig> = {}): OidcConfig {
  return { ...OIDC_DEFAULTS, issuer: provider.issuer, audience: AUDIENCE, jwksUrl: provider.jwksUrl, ...overrides };
}

/** The refusal's reason, or 'accepted'. Fails the test if anything but OidcTokenRefused is thrown. */
async function outcome(verifier: OidcVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof OidcTokenRefused)) throw error;
    expect(error.message).not.toContain(token);
    return error.reason;
  }
}

describe('OidcVerifier against a real OpenID provider (RS256, client_credentials JWT access tokens)', () => {
  let provider: OidcTestProvider;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    provider = await startOidcProvider({
      clients: [
        { clientId: 'ci-deployer', clientSecret: 'ci-deployer-secret', groups: ['platform', 'deployers'] },
        { clientId: 'keycloak-style', clientSecret: 'keycloak-style-secret', claims: { realm_access: { roles: ['viewers', 'auditors'] } } },
        { clientId: 'one-team', clientSecret: 'one-team-secret', claims: { team: 'payments' } },
      ],
      tokenTtlSeconds: 300,
    });
    verifier = new OidcVerifier(configFor(provider));
  });

  afterAll(async () => {
    await provider?.stop();
  });

  const forge = (kind: ForgedTokenKind) => forgeToken(kind, { issuer: provider.issuer, audience: AUDIENCE, privateJwk: provider.privateJwk, kid: provider.kid, groups: ['platform'], sub: 'mallory' });

  it("a client-credentials token from the provider verifies and yields the client as subject, the issuer, the client's groups and the expiry", async () => {
    const token = await provider.token('ci-deployer', { audience: AUDIENCE });
    expect(looksLikeJwt(token)).toBe(true);
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({ subject: 'ci-deployer', issuer: provider.issuer, name: 'ci-deployer', groups: ['platform', 'deployers'] });
    const lifetimeMs = identity.expiresAt.getTime() - Date.now();
    expect(lifetimeMs).toBeGreaterThan(290_000);
    expect(lifetimeMs).toBeLessThanOrEqual(300_000);
  });

  it.each([
    { name: 'a dotted groups claim reaches into an object', client: 'keycloak-style', groupsClaim: 'realm_access.roles', groups: ['viewers', 'auditors'] },
    { name: 'a string groups claim is one group', client: 'one-team', groupsClaim: 'team', groups: ['payments'] },
    { name: 'an absent groups claim means no groups', client: 'ci-deployer', groupsClaim: 'roles', groups: [] },
  ])('$name', async ({ client, groupsClaim, groups }) => {
    const token = await provider.token(client, { audience: AUDIENCE });
    expect((await new OidcVerifier(configFor(provider, { groupsClaim })).verify(token)).groups).toEqual(groups);
  });

  it('a forged token signed with the real key, for comparison, verifies', async () => {
    expect(await outcome(verifier, await forge('valid'))).toBe('accepted');
  });

  it.each<{ name: string; kind: ForgedTokenKind; reason: string }>([
    { name: 'an unsigned token (alg none)', kind: 'alg-none', reason: OIDC_REFUSALS.unsigned },
    { name: "an HS256 token keyed with the issuer's public key", kind: 'hmac-with-public-key', reason: OIDC_REFUSALS.hmac },
    { name: 'a token signed by a key the issuer does not publish', kind: 'unknown-kid', reason: OIDC_REFUSALS.unknownKey },
    { name: 'a token whose claims were changed after signing', kind: 'bad-signature', reason: OIDC_REFUSALS.badSignature },
    { name: 'a token from another issuer', kind: 'wrong-issuer', reason: OIDC_REFUSALS.wrongIssuer },
    { name: 'a token for another audience', kind: 'wrong-audience', reason: OIDC_REFUSALS.wrongAudience },
    { name: 'an expired token', kind: 'expired', reason: OIDC_REFUSALS.expired },
    { name: 'a token valid only from an hour on', kind: 'not-yet-valid', reason: OIDC_REFUSALS.notYetValid },
    { name: 'a token without exp', kind: 'no-expiry', reason: OIDC_REFUSALS.noExpiry },
  ])('$name is refused with a reason of its own', async ({ kind, reason }) => {
    expect(await outcome(verifier, await forge(kind))).toBe(reason);
  });

  it('every forged kind is refused for a reason of its own', async () => {
    const kinds: ForgedTokenKind[] = ['alg-none', 'hmac-with-public-key', 'unknown-kid', 'bad-signature', 'wrong-issuer', 'wrong-audience', 'expired', 'not-yet-valid', 'no-expiry'];
    const reasons = await Promise.all(kinds.map(async (kind) => outcome(verifier, await forge(kind))));
    expect(new Set(reasons).size).toBe(kinds.length);
  });

  it("a real provider token requested for another audience is refused as 'wrong audience'", async () => {
    expect(await outcome(verifier, await provider.token('ci-deployer', { audience: 'https://other.example/api' }))).toBe(OIDC_REFUSALS.wrongAudience);
  });

  it('HS256 and none in the configured allow-list are ignored, and a list of only those is a configuration error', async () => {
    const lenient = new OidcVerifier(configFor(provider, { algorithms: ['HS256', 'none', 'RS256'] }));
    expect(await outcome(lenient, await forge('hmac-with-public-key'))).toBe(OIDC_REFUSALS.hmac);
    expect(await outcome(lenient, await forge('alg-none'))).toBe(OIDC_REFUSALS.unsigned);
    expect(() => new OidcVerifier(configFor(provider, { algorithms: ['HS256', 'none'] }))).toThrow(/no asymmetric/);
  });

  it('an algorithm the issuer uses but the allow-list lacks is refused', async () => {
    const esOnly = new OidcVerifier(configFor(provider, { algorithms: ['ES256'] }));
    expect(await outcome(esOnly, await provider.token('ci-deployer', { audience: AUDIENCE }))).toBe(OIDC_REFUSALS.algorithmNotAllowed);
  });

  it('without jwksUrl the keys are found through the discovery document', async () => {
    const discovering = new OidcVerifier(configFor(provider, { jwksUrl: undefined }));
    expect((await discovering.verify(await provider.token('ci-deployer', { audience: AUDIENCE }))).subject).toBe('ci-deployer');
  });

  it.each([
    { name: 'ten seconds past exp, within the 30 s tolerance, is accepted', afterExpSeconds: 10, expected: 'accepted' },
    { name: 'a minute past exp is refused', afterExpSeconds: 60, expected: OIDC_REFUSALS.expired },
  ])('with an injected clock, a provider token $name', async ({ afterExpSeconds, expected }) => {
    const token = await provider.token('ci-deployer', { audience: AUDIENCE });
    const exp = decodeJwt(token).exp!;
    const later = new OidcVerifier(configFor(provider), () => new Date((exp + afterExpSeconds) * 1000));
    expect(await outcome(later, token)).toBe(expected);
  });

  it.each([
    { name: 'an opaque API token', token: 'flt_9f8e7d6c5b4a', jwt: false },
    { name: 'two segments', token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', jwt: false },
    { name: 'a segment outside base64url', token: 'eyJh+bGc.eyJz.c2ln', jwt: false },
    { name: 'an empty string', token: '', jwt: false },
    { name: 'three base64url segments', token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', jwt: true },
  ])('looksLikeJwt: $name → $jwt', ({ token, jwt }) => {
    expect(looksLikeJwt(token)).toBe(jwt);
  });

  it("a non-JWT bearer is refused as 'not a JWT' without contacting anyone", async () => {
    expect(await outcome(new OidcVerifier(configFor(provider, { jwksUrl: 'http://127.0.0.1:9/jwks' })), 'flt_9f8e7d6c5b4a')).toBe(OIDC_REFUSALS.notJwt);
  });
});

describe('OidcVerifier across key rotation and outages of the provider (ES256)', () => {
  let provider: OidcTestProvider;

  beforeAll(async () => {
    provider = await startOidcProvider({ clients: [{ clientId: 'ci-deployer', clientSecret: 'ci-deployer-secret', groups: ['deployers'] }], alg: 'ES256' });
  });

  afterAll(async () => {
    await provider?.stop();
  });

  const token = () => provider.token('ci-deployer', { audience: AUDIENCE });

  it('after the issuer rotates its key, a token with the new kid verifies once the cooldown has passed, and one with the old kid no longer does', async () => {
    const verifier = new OidcVerifier(configFor(provider, { jwksCooldownSeconds: 1 }));
    const before = await token();
    expect((await verifier.verify(before)).groups).toEqual(['deployers']);
    const oldKid = provider.kid;

    await provider.restartWithNewKey();
    expect(provider.kid).not.toBe(oldKid);
    const after = await token();
    expect(decodeJwt(after).sub).toBe('ci-deployer');
    await eventually(async () => (await verifier.verify(after)).subject === 'ci-deployer', { timeoutMs: 10_000, what: 'a token with the new kid to verify' });
    expect(await outcome(verifier, before)).toBe(OIDC_REFUSALS.unknownKey);
  });

  it('a verifier that has read the keys keeps verifying while the provider is down', async () => {
    const verifier = new OidcVerifier(configFor(provider));
    const valid = await token();
    await verifier.verify(valid);
    await provider.stop();
    try {
      expect(await outcome(verifier, valid)).toBe('accepted');
    } finally {
      await provider.start();
    }
  });

  it.each([
    { name: 'discovered', discover: true },
    { name: 'at a configured jwksUrl', discover: false },
  ])("with the provider down, a fresh verifier whose keys are $name refuses as 'keys unreadable' (transient), and verifies once the provider is back", async ({ discover }) => {
    const valid = await token();
    const verifier = new OidcVerifier(configFor(provider, { jwksUrl: discover ? undefined : provider.jwksUrl }));
    await provider.stop();
    try {
      const refusal = await verifier.verify(valid).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(OidcTokenRefused);
      expect(refusal).toMatchObject({ reason: OIDC_REFUSALS.keysUnreadable, transient: true });
    } finally {
      await provider.start();
    }
    await eventually(async () => (await verifier.verify(valid)).subject === 'ci-deployer', { timeoutMs: 10_000, what: 'the verifier to recover' });
  });
});
