/**
 * The `Host` check of the HTTP edge: which names a request may address the hub by. Pure: no I/O; IP
 * literals are recognised by shape (see {@link parseSubjectAltName}), never resolved.
 */
import { parseSubjectAltName } from '../tls/server-names';

/** A host as a request names it: a lowercased DNS name or IP literal (v6 without brackets), and the port if one was given. */
export interface RequestHost {
  readonly kind: 'dns' | 'ip';
  readonly name: string;
  readonly port: number | undefined;
}

/** One allowed name: exact, or `*.`-wildcarded (one leftmost label); any port unless `port` is set. */
export interface HostPattern {
  readonly name: string;
  readonly port: number | undefined;
}

/** The default ports a browser leaves out of `Host`: an entry with one of them also matches a portless `Host`. */
const DEFAULT_PORTS = new Set([80, 443]);
const PORT = /^\d{1,5}$/;

/**
 * Reads `name`, `name:port`, `v4:port`, `[v6]` or `[v6]:port` (a `Host` header, or an entry of
 * FLOTILLA_ALLOWED_HOSTS when `wildcard` is true). A trailing dot is dropped (`example.com.` is the same
 * DNS name). Returns undefined for anything else: a scheme, a path, userinfo, a bad port, a bad name.
 */
export function parseHost(text: string, options: { wildcard?: boolean } = {}): RequestHost | undefined {
  const value = text.trim();
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    host = value.slice(0, end + 1);
    const rest = value.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = value.indexOf(':');
    // A bare IPv6 literal has several colons: only its bracketed form carries a port.
    if (colon >= 0 && value.indexOf(':', colon + 1) >= 0) return undefined;
    host = colon < 0 ? value : value.slice(0, colon);
    portText = colon < 0 ? undefined : value.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!PORT.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) return undefined;
    port = Number(portText);
  }
  if (host.endsWith('.') && !host.endsWith('..')) host = host.slice(0, -1);
  const name = parseSubjectAltName(host);
  if (!name) return undefined;
  if (name.kind === 'dns' && name.value.startsWith('*.') && !options.wildcard) return undefined;
  return { kind: name.kind, name: name.value, port };
}

/** Splits a comma list of host patterns (FLOTILLA_ALLOWED_HOSTS); entries {@link parseHost} refuses come back in `refused`. */
export function parseHostPatterns(text: string): { patterns: HostPattern[]; refused: string[] } {
  const patterns: HostPattern[] = [];
  const refused: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const host = parseHost(entry, { wildcard: true });
    if (host) patterns.push({ name: host.name, port: host.port });
    else refused.push(entry);
  }
  return { patterns, refused };
}

/**
 * Whether a request may address the hub by `host`. IP literals and `localhost` always may: a DNS
 * rebinding attack needs a name the attacker controls, and probes (the kubelet's) use the pod's IP.
 * Any other name must match a pattern: exactly, or one label under a `*.` pattern; a pattern's port
 * must equal the request's, and a portless request matches a pattern on port 80 or 443.
 */
export function isHostAllowed(host: RequestHost, patterns: readonly HostPattern[]): boolean {
  if (host.kind === 'ip' || host.name === 'localhost') return true;
  return patterns.some((pattern) => isNameMatch(host.name, pattern.name) && isPortMatch(host.port, pattern.port));
}

function isNameMatch(name: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return name === pattern;
  const suffix = pattern.slice(1);
  return name.endsWith(suffix) && name.length > suffix.length && !name.slice(0, -suffix.length).includes('.');
}

function isPortMatch(port: number | undefined, pattern: number | undefined): boolean {
  if (pattern === undefined) return true;
  return port === undefined ? DEFAULT_PORTS.has(pattern) : port === pattern;
}
