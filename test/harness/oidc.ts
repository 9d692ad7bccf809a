import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { freePort } from './ports.js';
import { ManagedProcess } from './processes.js';

const PROVIDER_SCRIPT = fileURLToPath(new URL('./oidc-provider.mjs', import.meta.url));
/** Must match `AUDIENCE_URN` in oidc-provider.mjs. */
const AUDIENCE_URN = 'urn:flotilla:test-audience:';
const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

export type OidcSigningAlg = 'RS256' | 'ES256';

/** A `client_credentials` client of the test provider; its tokens carry `groups` and `claims`. */
export interface OidcTestClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly groups?: readonly string[];
  /** More claims for its access tokens (cannot override `sub`, `iss`, `aud`, `exp`, `iat`, `jti`). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface OidcProviderOptions {
  readonly clients: readonly OidcTestClient[];
  /** Algorithm of the signing key; default RS256. */
  readonly alg?: OidcSigningAlg;
  /** Access token lifetime; default 600. */
  readonly tokenTtlSeconds?: number;
}

/** A running oidc-provider process on 127.0.0.1 (see oidc-provider.mjs). */
export interface OidcTestProvider {
  /** `http://127.0.0.1:<port>`, the `iss` of its tokens; stays the same across restarts. */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** The current signing key (private) and its `kid`; both change on {@link restartWithNewKey}. */
  readonly privateJwk: JWK;
  readonly kid: string;
  readonly running: boolean;
  /** A JWT access token for the client through the real token endpoint (client_credentials, `resource`). */
  token(clientId: string, request: { readonly audience: string }): Promise<string>;
  /** Starts the provider again on the same port with the same key; no-op if it runs. */
  start(): Promise<void>;
  /** Stops the process, replaces the key set by one fresh key with a new `kid`, starts again on the same port. */
  restartWithNewKey(): Promise<void>;
  /** SIGTERM, then waits for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the test OpenID provider and resolves once it listens. Stop it in `afterAll`. */
export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcTestProvider> {
  const provider = new OidcProviderProcess(options, await freePort(), await signingKey(options.alg ?? 'RS256'));
  await provider.start();
  return provider;
}

class OidcProviderProcess implements OidcTestProvider {
  readonly issuer: string;
  readonly jwksUrl: string;
  private process: ManagedProcess | undefined;

  constructor(
    private readonly options: OidcProviderOptions,
    private readonly port: number,
    private key: JWK & { kid: string },
  ) {
    this.issuer = `http://127.0.0.1:${port}`;
    this.jwksUrl = `${this.issuer}/jwks`;
  }

  get privateJwk(): JWK {
    return { ...this.key };
  }

  get kid(): string {
    return this.key.kid;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  async token(clientId: string, { audience }: { readonly audience: string }): Promise<string> {
    const client = this.options.clients.find((c) => c.clientId === clientId);
    if (!client) throw new Error(`unknown test client ${clientId}`);
    const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: resourceFor(audience) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json()) as { access_token?: unknown; error?: unknown; error_description?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new Error(`token request for ${clientId} failed: HTTP ${response.status} ${String(body.error)} ${String(body.error_description ?? '')}`);
    }
    return body.access_token;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const clients = this.options.clients.map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret, groups: c.groups ?? [], claims: c.claims ?? {} }));
    const child = spawn(process.execPath, [PROVIDER_SCRIPT], {
      env: {
        ...process.env,
        OIDC_PORT: String(this.port),
        OIDC_JWKS: JSON.stringify({ keys: [this.key] }),
        OIDC_CLIENTS: JSON.stringify(clients),
        OIDC_TOKEN_TTL_SECONDS: String(this.options.tokenTtlSeconds ?? 600),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = new ManagedProcess('oidc-provider', child);
    await waitForReady(this.process, this.issuer);
  }

  async restartWithNewKey(): Promise<void> {
    await this.stop();
    this.key = await signingKey(algOf(this.key));
    await this.start();
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }
}

/** Resolves on the `ready <issuer>` line; rejects with the output tail if the process exits or is slow. */
function waitForReady(provider: ManagedProcess, issuer: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const expected = `ready ${issuer}`;
    const settle = (error?: Error) => {
      clearTimeout(timer);
      provider.child.stdout?.off('data', onData);
      provider.child.off('exit', onExit);
      if (error) {
        void provider.stop('SIGKILL');
        reject(error);
      } else resolve();
    };
    const onData = () => {
      if (provider.output.includes(expected)) settle();
    };
    const onExit = () => settle(new Error(`oidc-provider exited before it was ready\n${provider.tail()}`));
    const timer = setTimeout(() => settle(new Error(`oidc-provider not ready after ${READY_TIMEOUT_MS} ms\n${provider.tail()}`)), READY_TIMEOUT_MS);
    // ManagedProcess's own listener runs first (it was added first), so `output` already holds the chunk.
    provider.child.stdout?.on('data', onData);
    provider.child.once('exit', onExit);
    onData();
  });
}

/** RFC 8707 resources are absolute URIs; other audiences travel in a URN the provider script decodes. */
function resourceFor(audience: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(audience) && URL.canParse(audience) ? audience : `${AUDIENCE_URN}${encodeURIComponent(audience)}`;
}

async function signingKey(alg: OidcSigningAlg): Promise<JWK & { kid: string }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `test-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

function algOf(jwk: JWK): OidcSigningAlg {
  return jwk.alg === 'ES256' || (jwk.alg === undefined && jwk.kty === 'EC') ? 'ES256' : 'RS256';
}

/** Tokens a test presents to a verifier; all but `valid` must be refused, each for its own reason. */
export type ForgedTokenKind =
  | 'valid'
  | 'alg-none'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'no-expiry'
  | 'unknown-kid'
  | 'bad-signature'
  | 'hmac-with-public-key';

export interface ForgeInput {
  readonly issuer: string;
  readonly audience: string;
  /** The provider's real signing key ({@link OidcTestProvider.privateJwk}). */
  readonly privateJwk: JWK;
  readonly kid: string;
  readonly groups?: readonly string[];
  readonly sub?: string;
}

/**
 * Signs a token of the given kind without the provider: the claims a real token has (iss, aud, sub, groups,
 * iat, exp in 5 minutes) with one thing wrong. Times are an hour off, beyond any sane clock tolerance.
 */
export async function forgeToken(kind: ForgedTokenKind, input: ForgeInput): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = algOf(input.privateJwk);
  const sub = input.sub ?? 'forged-client';
  const payload: JWTPayload = { iss: input.issuer, aud: input.audience, sub, client_id: sub, groups: [...(input.groups ?? [])], iat: now, exp: now + 300 };
  const header: JWTHeaderParameters = { alg, kid: input.kid, typ: 'at+jwt' };
  const sign = async (claims: JWTPayload, protectedHeader = header, key?: Uint8Array | CryptoKey): Promise<string> =>
    new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key ?? (await importJWK(input.privateJwk, alg)));
  switch (kind) {
    case 'valid':
      return sign(payload);
    case 'wrong-issuer':
      return sign({ ...payload, iss: `${input.issuer}/elsewhere` });
    case 'wrong-audience':
      return sign({ ...payload, aud: `${input.audience}-elsewhere` });
    case 'expired':
      return sign({ ...payload, iat: now - 7200, exp: now - 3600 });
    case 'not-yet-valid':
      return sign({ ...payload, nbf: now + 3600, exp: now + 7200 });
    case 'no-expiry': {
      const { exp: _exp, ...withoutExp } = payload;
      return sign(withoutExp);
    }
    case 'unknown-kid': {
      const stranger = await signingKey(alg);
      return sign(payload, { ...header, kid: stranger.kid }, await importJWK(stranger, alg));
    }
    case 'bad-signature': {
      // A real header and signature over other claims.
      const [encodedHeader, , signature] = (await sign(payload)).split('.');
      return `${encodedHeader}.${encodeSegment({ ...payload, groups: ['admins'] })}.${signature}`;
    }
    case 'alg-none':
      return `${encodeSegment({ ...header, alg: 'none' })}.${encodeSegment(payload)}.`;
    case 'hmac-with-public-key': {
      // Key confusion: the public key, which anyone can read from the JWKS, used as the HMAC secret.
      const publicPem = createPublicKey(createPrivateKey({ key: { ...input.privateJwk }, format: 'jwk' })).export({ type: 'spki', format: 'pem' });
      return sign(payload, { ...header, alg: 'HS256' }, new TextEncoder().encode(publicPem.toString()));
    }
  }
}

function encodeSegment(value: object): string {
  return base64url.encode(JSON.stringify(value));
}
