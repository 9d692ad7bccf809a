import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './processes.js';

const PROVIDER_SCRIPT = fileURLToPath(new URL('./oidc-interactive-provider.mjs', import.meta.url));

/** A public client of the interactive provider (no secret; PKCE required by the provider). */
export interface InteractiveOidcClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  /** Default: authorization_code only. Refresh tokens are issued to clients that list refresh_token. */
  readonly grantTypes?: readonly string[];
  /** `native` (loopback redirects on any port; the default) or `web`. */
  readonly applicationType?: 'web' | 'native';
}

/** What a user who signs in gets: groups in the access token, and its lifetime. */
export interface InteractiveOidcUser {
  readonly groups: readonly string[];
  readonly accessTokenTtlSeconds?: number;
}

export interface InteractiveOidcOptions {
  /** The `aud` of every access token (the hub's FLOTILLA_OIDC_AUDIENCE). */
  readonly audience: string;
  readonly clients: readonly InteractiveOidcClient[];
  /** By login name; `*` for any other. Default: every user in group `platform`. */
  readonly users?: Readonly<Record<string, InteractiveOidcUser>>;
  /** Lifetime of access tokens of users without their own; default 600. */
  readonly accessTokenTtlSeconds?: number;
}

/** A running oidc-interactive-provider.mjs: login form, consent, authorization code + PKCE, device flow. */
export interface InteractiveOidcProvider {
  /** `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts the provider on a free loopback port and resolves once it listens. Stop it in `afterAll`. */
export async function startInteractiveOidcProvider(options: InteractiveOidcOptions): Promise<InteractiveOidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [PROVIDER_SCRIPT], {
    env: {
      ...process.env,
      OIDC_PORT: String(port),
      OIDC_AUDIENCE: options.audience,
      OIDC_CLIENTS: JSON.stringify(options.clients),
      ...(options.users ? { OIDC_USERS: JSON.stringify(options.users) } : {}),
      ...(options.accessTokenTtlSeconds ? { OIDC_ACCESS_TOKEN_TTL_SECONDS: String(options.accessTokenTtlSeconds) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const provider = new ManagedProcess('oidc-interactive-provider', child);
  try {
    await eventually(() => provider.output.includes(`ready ${issuer}`) || (!provider.running && Promise.reject(new Error(provider.tail()))), {
      what: `the OpenID provider\n${provider.tail()}`,
      timeoutMs: 20_000,
    });
  } catch (error) {
    await provider.stop('SIGKILL');
    throw error;
  }
  return { issuer, process: provider, stop: () => provider.stop() };
}
