import { hostname } from 'node:os';
import { parseHost, parseHostPatterns, type HostPattern } from '../core/http/hosts';
import { parseAllowedOrigins } from '../core/http/origins';
import { hostOfAddress, parseSubjectAltNames } from '../core/tls/server-names';

/** Which `Host` and `Origin` values the HTTP edge accepts (see core/http/cross-site.ts). */
export interface CrossSiteConfig {
  /**
   * FLOTILLA_ALLOWED_HOSTS; when unset, the names the hub already knows itself by: the machine's
   * hostname, the listen HOST, the host of FLOTILLA_AGENT_ADDRESS and the FLOTILLA_GRPC_TLS_SANS names.
   * IP literals and `localhost` are accepted besides these, always.
   */
  readonly allowedHosts: readonly HostPattern[];
  /** FLOTILLA_ALLOWED_ORIGINS, canonical (`scheme://host[:port]`); the hub's own origin is always allowed. */
  readonly allowedOrigins: readonly string[];
}

const QUOTE_LIMIT = 80;

/** Reads FLOTILLA_ALLOWED_HOSTS and FLOTILLA_ALLOWED_ORIGINS; each refused entry is a problem. */
export function loadCrossSiteConfig(env: Record<string, string | undefined>, problems: string[], machineHostname: string = hostname()): CrossSiteConfig {
  const read = (name: string) => env[name]?.trim() || undefined;
  const quoted = (entries: readonly string[]) => entries.map((entry) => JSON.stringify(entry.slice(0, QUOTE_LIMIT))).join(', ');

  const hostsText = read('FLOTILLA_ALLOWED_HOSTS');
  let allowedHosts: HostPattern[];
  if (hostsText !== undefined) {
    const { patterns, refused } = parseHostPatterns(hostsText);
    if (refused.length > 0) {
      problems.push(`FLOTILLA_ALLOWED_HOSTS must list host names (optionally *.-wildcarded, optionally with :port) or IP addresses, without a scheme or path; refused: ${quoted(refused)}`);
    }
    allowedHosts = patterns;
  } else {
    allowedHosts = defaultHosts(env, machineHostname);
  }

  const { origins, refused } = parseAllowedOrigins(read('FLOTILLA_ALLOWED_ORIGINS') ?? '');
  if (refused.length > 0) {
    problems.push(`FLOTILLA_ALLOWED_ORIGINS must list exact origins such as https://fleet.example.com or http://localhost:5173 (a scheme, a host, an optional port, no path; never "null" or "*"); refused: ${quoted(refused)}`);
  }
  return { allowedHosts, allowedOrigins: origins };
}

/** The names the hub is already configured under; ones that do not parse as names are left out (their own settings report them). */
function defaultHosts(env: Record<string, string | undefined>, machineHostname: string): HostPattern[] {
  const agentAddress = env['FLOTILLA_AGENT_ADDRESS']?.trim();
  const candidates = [
    machineHostname,
    env['HOST']?.trim() ?? '',
    agentAddress ? (hostOfAddress(agentAddress) ?? '') : '',
    ...parseSubjectAltNames(env['FLOTILLA_GRPC_TLS_SANS'] ?? '').names.map((name) => name.value),
  ];
  const names = new Set<string>();
  for (const candidate of candidates) {
    const host = candidate === '' ? undefined : parseHost(candidate, { wildcard: true });
    if (host?.kind === 'dns') names.add(host.name);
  }
  return [...names].sort().map((name) => ({ name, port: undefined }));
}
