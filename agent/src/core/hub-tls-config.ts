import { AGENT_ENV } from './agent-env.js';
import { DNS_NAME, quote, type RaiseIssue, type ReadVariable } from './config-reading.js';

/** Where the CA that signs the hub's certificate comes from: PEM text, or a file read at start. */
export type HubCaSource = { readonly kind: 'pem'; readonly pem: string } | { readonly kind: 'file'; readonly path: string };

/**
 * How the agent verifies the hub: TLS against the hub's CA (always, from the first connection, so the
 * bootstrap token only ever crosses TLS), or plaintext when FLOTILLA_HUB_INSECURE=true.
 */
export type HubTlsConfig =
  | {
      readonly kind: 'tls';
      readonly ca: HubCaSource;
      /** FLOTILLA_HUB_TLS_SERVER_NAME: the name checked against the hub's certificate instead of the address's host. */
      readonly serverName: string | undefined;
    }
  | { readonly kind: 'insecure' };

/**
 * FLOTILLA_HUB_CA (PEM text) or FLOTILLA_HUB_CA_FILE (a path, read at start), exactly one, unless
 * FLOTILLA_HUB_INSECURE=true, which takes neither. Undefined when the settings are unusable.
 */
export function readHubTls(read: ReadVariable, issue: RaiseIssue): HubTlsConfig | undefined {
  const insecureText = read(AGENT_ENV.hubInsecure)?.toLowerCase() ?? 'false';
  const insecure = ['1', 'true', 'yes', 'on'].includes(insecureText) ? true : ['0', 'false', 'no', 'off'].includes(insecureText) ? false : undefined;
  if (insecure === undefined) {
    issue('invalid', AGENT_ENV.hubInsecure, `${AGENT_ENV.hubInsecure} must be true or false; got ${quote(insecureText)}`);
    return undefined;
  }
  // An env var set by hand often carries the PEM's line breaks as the two characters \n.
  const pemText = read(AGENT_ENV.hubCa)?.replace(/\\n/g, '\n').trim();
  const path = read(AGENT_ENV.hubCaFile);
  const serverName = read(AGENT_ENV.hubTlsServerName);
  if (insecure) {
    const contradicting = [AGENT_ENV.hubCa, AGENT_ENV.hubCaFile, AGENT_ENV.hubTlsServerName].filter((name) => read(name) !== undefined);
    if (contradicting.length === 0) return { kind: 'insecure' };
    issue('invalid', AGENT_ENV.hubInsecure, `${AGENT_ENV.hubInsecure}=true dials the hub in plaintext: unset ${contradicting.join(', ')} or ${AGENT_ENV.hubInsecure}`);
    return undefined;
  }
  let ok = true;
  if (serverName !== undefined && (serverName.length > 253 || !DNS_NAME.test(serverName))) {
    issue('invalid', AGENT_ENV.hubTlsServerName, `${AGENT_ENV.hubTlsServerName} must be a DNS name from the hub's certificate; got ${quote(serverName)}`);
    ok = false;
  }
  if (pemText !== undefined && path !== undefined) {
    issue('invalid', AGENT_ENV.hubCa, `${AGENT_ENV.hubCa} and ${AGENT_ENV.hubCaFile} are exclusive: set one`);
    return undefined;
  }
  if (pemText === undefined && path === undefined) {
    issue(
      'required',
      AGENT_ENV.hubCa,
      `${AGENT_ENV.hubCa} (PEM) or ${AGENT_ENV.hubCaFile} (a path) is required: the CA the hub's certificate is signed by (the hub's agentLinkCA query, or the caBundle of registerCluster). ${AGENT_ENV.hubInsecure}=true dials in plaintext instead (development only)`,
    );
    return undefined;
  }
  if (pemText !== undefined && !isCertificatePem(pemText)) {
    issue('invalid', AGENT_ENV.hubCa, `${AGENT_ENV.hubCa} must hold PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`);
    return undefined;
  }
  if (!ok) return undefined;
  return { kind: 'tls', ca: pemText !== undefined ? { kind: 'pem', pem: pemText } : { kind: 'file', path: path! }, serverName };
}

/** True when `text` holds at least one PEM certificate block. */
export function isCertificatePem(text: string): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text);
}
