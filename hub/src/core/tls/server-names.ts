/**
 * The names the hub's agent-link certificate answers to (its subjectAltName entries). Pure: no I/O,
 * no clock; IP addresses are recognised by shape, not by node:net.
 */

/** One subjectAltName entry: a DNS name (possibly `*.`-wildcarded) or an IP address (v4, or v6 lowercased). */
export interface SubjectAltName {
  readonly kind: 'dns' | 'ip';
  readonly value: string;
}

/** What the certificate's names are built from. */
export interface ServerNameSources {
  /** FLOTILLA_GRPC_TLS_SANS, already parsed. */
  readonly configured: readonly SubjectAltName[];
  /** FLOTILLA_AGENT_ADDRESS (`host:port`, `[v6]:port`), when set. */
  readonly agentAddress: string | undefined;
  /** FLOTILLA_GRPC_HOST: the listen address. A wildcard address (0.0.0.0, ::) names nothing. */
  readonly grpcHost: string;
}

/** Always in the certificate, so that an agent or probe on the hub's own machine can dial loopback. */
export const LOOPBACK_NAMES: readonly SubjectAltName[] = [
  { kind: 'dns', value: 'localhost' },
  { kind: 'ip', value: '127.0.0.1' },
  { kind: 'ip', value: '::1' },
];

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9a-f:.]+$/i;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

/**
 * Reads one name as written by an operator (`hub.example.com`, `*.hub.example.com`, `10.0.0.7`,
 * `::1`, `[::1]`). Returns undefined for anything else (a port, a scheme, a bad IP, an empty label).
 */
export function parseSubjectAltName(text: string): SubjectAltName | undefined {
  const value = text.trim();
  const unbracketed = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  const ipv4 = IPV4.exec(unbracketed);
  if (ipv4) return ipv4.slice(1).every((octet) => Number(octet) <= 255) ? { kind: 'ip', value: unbracketed } : undefined;
  if (unbracketed.includes(':')) return isIpv6(unbracketed) ? { kind: 'ip', value: unbracketed.toLowerCase() } : undefined;
  if (value !== unbracketed || value.length === 0 || value.length > 253) return undefined;
  const labels = value.toLowerCase().split('.');
  const [first, ...rest] = labels;
  // A wildcard stands for exactly one leftmost label, and never for a whole registered domain.
  const firstOk = first === '*' ? rest.length >= 2 : DNS_LABEL.test(first ?? '');
  return firstOk && rest.every((label) => DNS_LABEL.test(label)) ? { kind: 'dns', value: labels.join('.') } : undefined;
}

/** Splits a comma list of names; every entry that {@link parseSubjectAltName} refuses is returned in `refused`. */
export function parseSubjectAltNames(text: string): { names: SubjectAltName[]; refused: string[] } {
  const names: SubjectAltName[] = [];
  const refused: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const name = parseSubjectAltName(entry);
    if (name) names.push(name);
    else refused.push(entry);
  }
  return { names, refused };
}

/** The host part of `host:port` or `[v6]:port`; undefined when the address has no port separator. */
export function hostOfAddress(address: string): string | undefined {
  const trimmed = address.trim();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end > 1 ? trimmed.slice(1, end) : undefined;
  }
  const colon = trimmed.lastIndexOf(':');
  return colon > 0 ? trimmed.slice(0, colon) : undefined;
}

/**
 * Every name of the server certificate: the configured ones, the host agents are told to dial
 * (FLOTILLA_AGENT_ADDRESS), the listen host unless it is a wildcard, and loopback. Deduplicated,
 * DNS names first, then IPs, each sorted.
 */
export function serverSubjectAltNames(sources: ServerNameSources): SubjectAltName[] {
  const candidates: SubjectAltName[] = [...sources.configured, ...LOOPBACK_NAMES];
  for (const host of [sources.agentAddress === undefined ? undefined : hostOfAddress(sources.agentAddress), sources.grpcHost]) {
    if (host === undefined || WILDCARD_HOSTS.has(host)) continue;
    const name = parseSubjectAltName(host);
    if (name) candidates.push(name);
  }
  const unique = new Map(candidates.map((name) => [`${name.kind}:${name.value}`, name]));
  // Code-unit order, not the locale's: the same list on every machine.
  const key = (name: SubjectAltName) => `${name.kind === 'dns' ? 0 : 1}${name.value}`;
  return [...unique.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function isIpv6(text: string): boolean {
  if (!IPV6.test(text)) return false;
  const doubleColons = text.split('::').length - 1;
  if (doubleColons > 1) return false;
  const groups = text.split(':');
  // A trailing dotted quad (::ffff:10.0.0.1) counts as two groups.
  const last = groups.at(-1) ?? '';
  const embeddedV4 = last.includes('.');
  if (embeddedV4 && !IPV4.test(last)) return false;
  const hexGroups = embeddedV4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((group) => group === '' || /^[0-9a-f]{1,4}$/i.test(group))) return false;
  const count = hexGroups.filter((group) => group !== '').length + (embeddedV4 ? 2 : 0);
  return doubleColons === 1 ? count < 8 : count === 8 && !hexGroups.includes('');
}
