import { parseNatsServers } from './hub-config';

/**
 * Where agents reach NATS when it is not where the hub does: a leaf node per region, a load balancer's
 * name, another network. Only the install command uses it (registerCluster, issueBootstrapToken); the
 * hub itself keeps connecting to FLOTILLA_NATS_URL.
 */
export interface AgentNatsConfig {
  /** FLOTILLA_AGENT_NATS_URL: the servers the install command gives agents; undefined: the hub's FLOTILLA_NATS_URL. */
  readonly servers: readonly string[] | undefined;
  /**
   * FLOTILLA_AGENT_NATS_CA_FILE: PEM of the CA(s) agents verify those servers with, carried by the
   * install command when a server is `tls://`; undefined: the hub's own FLOTILLA_NATS_CA_FILE.
   */
  readonly caFile: string | undefined;
}

/**
 * Reads FLOTILLA_AGENT_NATS_URL and FLOTILLA_AGENT_NATS_CA_FILE, appending to `problems`. Both need
 * FLOTILLA_NATS_URL and FLOTILLA_NATS_OPERATOR=true: only the install command of a hub that is the NATS
 * operator puts agents on NATS (otherwise they are set, and silently unused, by mistake). URLs are
 * checked like the hub's own (no credentials, nats:// or tls://).
 */
export function loadAgentNatsConfig(env: Record<string, string | undefined>, problems: string[]): AgentNatsConfig {
  const read = (name: string) => env[name]?.trim() || undefined;
  const url = read('FLOTILLA_AGENT_NATS_URL');
  const caFile = read('FLOTILLA_AGENT_NATS_CA_FILE');
  const given = [url !== undefined ? 'FLOTILLA_AGENT_NATS_URL' : undefined, caFile !== undefined ? 'FLOTILLA_AGENT_NATS_CA_FILE' : undefined].filter((name) => name !== undefined);
  const needs = (what: string) => problems.push(`${given.join(' and ')} need${given.length === 1 ? 's' : ''} ${what}`);
  if (given.length === 0) return { servers: undefined, caFile: undefined };
  if (read('FLOTILLA_NATS_URL') === undefined) {
    needs("FLOTILLA_NATS_URL (the hub's own NATS link)");
    return { servers: undefined, caFile: undefined };
  }
  // The operator flag's own value is checked where it is read (hub-config.ts).
  if (!['1', 'true', 'yes', 'on'].includes(read('FLOTILLA_NATS_OPERATOR')?.toLowerCase() ?? '')) {
    needs('FLOTILLA_NATS_OPERATOR=true: only the install command of a hub that is the NATS operator puts agents on NATS');
  }
  return { servers: url === undefined ? undefined : parseNatsServers(url, 'FLOTILLA_AGENT_NATS_URL', problems), caFile };
}
