/**
 * The `Origin` check of the HTTP edge: same-origin, or one of the origins an operator allow-listed.
 * Pure: origins are parsed by shape, never resolved.
 */
import { parseHost, type RequestHost } from './hosts';

/** A serialized web origin (`scheme://host[:port]`), as browsers send it in `Origin`. */
export interface WebOrigin {
  readonly scheme: 'http' | 'https';
  /** Lowercased DNS name or IP literal (v6 without brackets). */
  readonly host: string;
  /** The explicit port, or the scheme's default (80, 443). */
  readonly port: number;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;
const ORIGIN = /^(https?):\/\/([^/?#@\s]+)$/i;

/**
 * Reads a serialized origin: `http` or `https`, a host (a name or IP literal, `[v6]` bracketed), an
 * optional port, nothing else (no path, not even `/`, no userinfo). Undefined for anything else,
 * including the opaque origin `null` that sandboxed frames, `file:` pages and redirects send.
 */
export function parseOrigin(text: string): WebOrigin | undefined {
  const match = ORIGIN.exec(text.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase() as WebOrigin['scheme'];
  const host = parseHost(match[2]!);
  if (!host) return undefined;
  return { scheme, host: host.name, port: host.port ?? DEFAULT_PORT[scheme] };
}

/** The canonical text of an origin: lowercase, default port left out, IPv6 bracketed. */
export function serializeOrigin(origin: WebOrigin): string {
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  return origin.port === DEFAULT_PORT[origin.scheme] ? `${origin.scheme}://${host}` : `${origin.scheme}://${host}:${origin.port}`;
}

/** Splits a comma list of origins (FLOTILLA_ALLOWED_ORIGINS) into canonical texts; entries {@link parseOrigin} refuses come back in `refused`. */
export function parseAllowedOrigins(text: string): { origins: string[]; refused: string[] } {
  const origins = new Set<string>();
  const refused: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const origin = parseOrigin(entry);
    if (origin) origins.add(serializeOrigin(origin));
    else refused.push(entry);
  }
  return { origins: [...origins], refused };
}

/**
 * Whether the page at `origin` is the hub itself, as the request's `Host` names it: same host, and the
 * same port once each side's default is filled in from the origin's scheme. The scheme is not compared:
 * the hub cannot see it behind a TLS-terminating ingress, and one host:port serves one scheme.
 */
export function isSameOrigin(origin: WebOrigin, host: RequestHost): boolean {
  return origin.host === host.name && origin.port === (host.port ?? DEFAULT_PORT[origin.scheme]);
}
