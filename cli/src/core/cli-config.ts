/** An OIDC login kept in a context: the tokens and how to refresh them. */
export interface OidcSession {
  readonly issuer: string;
  readonly clientId: string;
  readonly audience?: string;
  readonly scope?: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** When the access token expires (ISO 8601); absent: unknown. */
  readonly expiresAt?: string;
}

/** A named hub and how to authenticate to it: an API token or an OIDC session. */
export interface CliContext {
  readonly name: string;
  /** The hub's GraphQL URL. */
  readonly server: string;
  readonly token?: string;
  readonly oidc?: OidcSession;
}

/** The content of config.yaml. */
export interface CliConfig {
  readonly currentContext: string | null;
  readonly contexts: readonly CliContext[];
}

export const EMPTY_CONFIG: CliConfig = { currentContext: null, contexts: [] };

/**
 * Checks the parsed content of a config file (undefined or null: an empty file) and returns it as a
 * {@link CliConfig}. Throws an Error naming the file and the first bad field.
 */
export function parseCliConfig(value: unknown, file: string): CliConfig {
  if (value === undefined || value === null) return EMPTY_CONFIG;
  const bad = (what: string) => new Error(`${file}: ${what} (fix or delete the file, then run flotilla login)`);
  if (!isRecord(value)) throw bad('expected a mapping with currentContext and contexts');
  const current = value['currentContext'] ?? null;
  if (current !== null && typeof current !== 'string') throw bad('currentContext must be a string');
  const list = value['contexts'] ?? [];
  if (!Array.isArray(list)) throw bad('contexts must be a list');
  const contexts = list.map((entry: unknown, i): CliContext => {
    if (!isRecord(entry)) throw bad(`contexts[${i}] must be a mapping`);
    const name = entry['name'];
    const server = entry['server'];
    if (typeof name !== 'string' || name === '') throw bad(`contexts[${i}].name must be a non-empty string`);
    if (typeof server !== 'string' || server === '') throw bad(`contexts[${i}].server must be a non-empty string`);
    const token = entry['token'];
    if (token !== undefined && typeof token !== 'string') throw bad(`contexts[${i}].token must be a string`);
    const oidc = entry['oidc'];
    let session: OidcSession | undefined;
    if (oidc !== undefined) {
      if (!isRecord(oidc)) throw bad(`contexts[${i}].oidc must be a mapping`);
      for (const field of ['issuer', 'clientId', 'accessToken'] as const) {
        if (typeof oidc[field] !== 'string' || oidc[field] === '') throw bad(`contexts[${i}].oidc.${field} must be a non-empty string`);
      }
      for (const field of ['audience', 'scope', 'refreshToken', 'expiresAt'] as const) {
        if (oidc[field] !== undefined && typeof oidc[field] !== 'string') throw bad(`contexts[${i}].oidc.${field} must be a string`);
      }
      session = oidc as unknown as OidcSession;
    }
    return { name, server, ...(token !== undefined ? { token } : {}), ...(session ? { oidc: session } : {}) };
  });
  const names = new Set<string>();
  for (const context of contexts) {
    if (names.has(context.name)) throw bad(`two contexts are named "${context.name}"`);
    names.add(context.name);
  }
  return { currentContext: current, contexts };
}

/** Adds or replaces the context of that name and makes it current; the input is not changed. */
export function upsertContext(config: CliConfig, context: CliContext): CliConfig {
  const others = config.contexts.filter((c) => c.name !== context.name);
  return { currentContext: context.name, contexts: [...others, context].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Removes a context (the current one too, which leaves none current). Throws for an unknown name. */
export function deleteContext(config: CliConfig, name: string): CliConfig {
  if (!config.contexts.some((c) => c.name === name)) throw new Error(`no context named "${name}" (see flotilla context list)`);
  return { currentContext: config.currentContext === name ? null : config.currentContext, contexts: config.contexts.filter((c) => c.name !== name) };
}

/** Makes a context current. Throws for an unknown name. */
export function useContext(config: CliConfig, name: string): CliConfig {
  if (!config.contexts.some((c) => c.name === name)) throw new Error(`no context named "${name}" (see flotilla context list)`);
  return { ...config, currentContext: name };
}

/** A context name from a server URL: its host and port (`127.0.0.1-4000`). */
export function defaultContextName(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  return url.port ? `${url.hostname}-${url.port}` : url.hostname;
}

/** Where a command's hub and token come from. */
export interface CredentialInputs {
  readonly flags: { readonly server?: string; readonly token?: string; readonly context?: string };
  readonly env: { readonly FLOTILLA_SERVER?: string; readonly FLOTILLA_TOKEN?: string };
}

/** How a command authenticates: a bearer token as it is, or an OIDC session of a context. */
export type Credential =
  | { kind: 'token'; token: string; source: '--token' | 'FLOTILLA_TOKEN' | 'context' }
  | { kind: 'oidc'; context: string; session: OidcSession };

export type ResolvedTarget = { server: string; context: CliContext | undefined; credential: Credential | undefined };

/**
 * Picks the hub (`--server` > FLOTILLA_SERVER > the context's) and the credential (`--token` >
 * FLOTILLA_TOKEN > the context's token or OIDC session). The context is `--context`, else the current
 * one; when the hub was given another way and differs from the context's, the context whose server it
 * is is used instead, or none: a stored token is only ever sent to the hub it was stored for. Throws
 * an Error saying what to run when there is no hub or an unknown context. `normalise` turns a server
 * argument into the GraphQL URL stored in contexts.
 */
export function resolveTarget(config: CliConfig, inputs: CredentialInputs, normalise: (server: string) => string): ResolvedTarget {
  const named = inputs.flags.context ?? config.currentContext ?? undefined;
  let context = named === undefined ? undefined : config.contexts.find((c) => c.name === named);
  if (inputs.flags.context !== undefined && context === undefined) throw new Error(`no context named "${inputs.flags.context}" (see flotilla context list)`);
  const given = inputs.flags.server ?? inputs.env.FLOTILLA_SERVER;
  const server = given !== undefined ? normalise(given) : context?.server;
  if (server === undefined) throw new Error('no hub to talk to: run `flotilla login --server URL` first, or pass --server URL');
  if (context && context.server !== server) context = config.contexts.find((c) => c.server === server);
  let credential: Credential | undefined;
  if (inputs.flags.token) credential = { kind: 'token', token: inputs.flags.token, source: '--token' };
  else if (inputs.env.FLOTILLA_TOKEN) credential = { kind: 'token', token: inputs.env.FLOTILLA_TOKEN, source: 'FLOTILLA_TOKEN' };
  else if (context?.oidc) credential = { kind: 'oidc', context: context.name, session: context.oidc };
  else if (context?.token) credential = { kind: 'token', token: context.token, source: 'context' };
  return { server, context, credential };
}

/** True when an OIDC access token expires within `skewMs` of `now` (unknown expiry: false). */
export function isAccessTokenExpiring(session: Pick<OidcSession, 'expiresAt'>, now: Date, skewMs = 30_000): boolean {
  if (!session.expiresAt) return false;
  const at = Date.parse(session.expiresAt);
  return Number.isFinite(at) && at - skewMs <= now.getTime();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
