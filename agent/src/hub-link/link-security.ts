import { readFile } from 'node:fs/promises';
import { AGENT_ENV, type ConfigIssue } from '../core/config.js';
import { isCertificatePem, type HubTlsConfig } from '../core/hub-tls-config.js';
import type { GrpcLinkSecurity } from './grpc-hub-link.js';

/** Result of {@link resolveLinkSecurity}. */
export type LinkSecurityResult = { readonly ok: true; readonly security: GrpcLinkSecurity } | { readonly ok: false; readonly issue: ConfigIssue };

/**
 * Turns the validated TLS settings into what the gRPC link dials with: reads FLOTILLA_HUB_CA_FILE
 * (once, at start) and checks that it holds PEM certificates. An unreadable or empty file is a
 * configuration issue, so that the agent never falls back to dialing without verifying the hub.
 */
export async function resolveLinkSecurity(tls: HubTlsConfig): Promise<LinkSecurityResult> {
  if (tls.kind === 'insecure') return { ok: true, security: { kind: 'insecure' } };
  if (tls.ca.kind === 'pem') return { ok: true, security: { kind: 'tls', caPem: tls.ca.pem, serverName: tls.serverName } };
  const path = tls.ca.path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, issue: { code: 'unavailable', path: AGENT_ENV.hubCaFile, message: `${AGENT_ENV.hubCaFile}: cannot read ${JSON.stringify(path)} (${code})` } };
  }
  if (!isCertificatePem(text)) {
    return { ok: false, issue: { code: 'invalid', path: AGENT_ENV.hubCaFile, message: `${AGENT_ENV.hubCaFile}: ${JSON.stringify(path)} holds no PEM certificate` } };
  }
  return { ok: true, security: { kind: 'tls', caPem: text, serverName: tls.serverName } };
}
