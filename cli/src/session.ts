import { HubClient, type TokenSource } from './client/hub-client.js';
import { configFilePath, readConfigFile, writeConfigFile } from './config/config-file.js';
import { isAccessTokenExpiring, resolveTarget, upsertContext, type CliContext, type OidcSession } from './core/cli-config.js';
import { hubEndpoints } from './core/server-url.js';
import type { Io } from './io.js';
import { refreshOidcSession } from './oidc/oidc-login.js';
import { CliError } from './errors.js';

/** The options every command takes (commander's globals). */
export interface GlobalOptions {
  server?: string;
  token?: string;
  context?: string;
}

/** A client for the hub the flags, environment and config file name. */
export function openSession(io: Io, globals: GlobalOptions): HubClient {
  const file = configFilePath(io.env);
  let target;
  try {
    const config = readConfigFile(file);
    target = resolveTarget(
      config,
      { flags: globals, env: { FLOTILLA_SERVER: io.env['FLOTILLA_SERVER'] || undefined, FLOTILLA_TOKEN: io.env['FLOTILLA_TOKEN'] || undefined } },
      (server) => hubEndpoints(server).graphqlUrl,
    );
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const endpoints = hubEndpoints(target.server);
  const credential = target.credential;
  const loginHint =
    credential?.kind === 'oidc'
      ? `flotilla login --server ${target.server} --oidc --issuer ${credential.session.issuer} --client-id ${credential.session.clientId}`
      : `flotilla login --server ${target.server}`;
  let tokens: TokenSource;
  if (credential?.kind === 'oidc') {
    tokens = new OidcTokens(io, file, target.context!, credential.session, loginHint);
  } else {
    const token = credential?.token;
    tokens = { token: async () => token, refresh: async () => false, loginHint };
  }
  return new HubClient(endpoints, tokens);
}

/** The access token of an OIDC context, refreshed (and saved) when it expires or the hub refuses it. */
class OidcTokens implements TokenSource {
  private refreshed = false;

  constructor(
    private readonly io: Io,
    private readonly file: string,
    private readonly context: CliContext,
    private session: OidcSession,
    readonly loginHint: string,
  ) {}

  async token(): Promise<string> {
    if (isAccessTokenExpiring(this.session, this.io.now())) await this.refresh();
    return this.session.accessToken;
  }

  async refresh(): Promise<boolean> {
    // Once per command: a hub that refuses a fresh token will refuse the next one too.
    if (this.refreshed) return false;
    this.refreshed = true;
    this.session = await refreshOidcSession(this.session, () => this.io.now(), this.loginHint);
    const config = readConfigFile(this.file);
    const current = config.currentContext;
    const next = upsertContext(config, { ...this.context, oidc: this.session });
    writeConfigFile(this.file, { ...next, currentContext: current });
    return true;
  }
}
