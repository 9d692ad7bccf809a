/** Quotes a value for a POSIX shell (single quotes, with embedded quotes escaped). */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** How the agent is to verify the hub: the CA bundle (PEM) it must trust, or plaintext when the hub serves no TLS. */
export type AgentLinkTrust = { readonly kind: 'tls'; readonly caBundle: string } | { readonly kind: 'insecure' };

/**
 * How the agent reaches the hub: the gRPC agent link (`hub.address` and the CA it verifies the hub
 * with), or NATS with the hub as NATS operator: the servers' URLs and the enrollment user's JWT.
 */
export type AgentLink =
  | { readonly kind: 'grpc'; readonly hubAddress: string; readonly trust: AgentLinkTrust }
  | {
      readonly kind: 'nats';
      readonly servers: readonly string[];
      readonly enrollmentJwt: string;
      /** PEM of the CA the agent verifies `tls://` servers with; undefined: the system trust store. */
      readonly caBundle?: string | undefined;
    };

/** True when one of `servers` is a `tls://` URL: only then does the install command carry a NATS CA. */
export function hasTlsServer(servers: readonly string[]): boolean {
  return servers.some((server) => server.trim().toLowerCase().startsWith('tls://'));
}

/**
 * The exact `helm install` of the agent chart (charts/flotilla-agent) for one cluster: release and
 * namespace, cluster name, how it reaches the hub and the one-time bootstrap token.
 *
 * Over gRPC: the hub address and the CA the agent verifies the hub with. The CA travels
 * base64-encoded (`hub.caBundle` takes PEM or base64) so that the command stays one copy-pasteable
 * line per value; `--set-string` keeps helm from reading it as anything but a string.
 *
 * Over NATS (the hub is the NATS operator): `nats.url` and the enrollment JWT, with which the agent
 * exchanges the token for its own NATS user. The servers are the hub's FLOTILLA_AGENT_NATS_URL, else
 * the ones the hub itself was given; commas are escaped because `--set` splits on them. When a server
 * is `tls://` and the hub knows the CA, `nats.caBundle` carries it (base64, like `hub.caBundle`).
 *
 * The cluster's labels live in the hub (registerCluster, setClusterLabels), so the command does not
 * repeat them.
 */
export function agentInstallCommand(cluster: { name: string }, link: AgentLink, bootstrapToken: string): string {
  const lines = [`helm install flotilla-agent charts/flotilla-agent --namespace flotilla-system --create-namespace`, `--set cluster.name=${shellQuote(cluster.name)}`, ...linkValues(link), `--set bootstrapToken.value=${shellQuote(bootstrapToken)}`];
  return lines.join(' \\\n  ');
}

function linkValues(link: AgentLink): string[] {
  switch (link.kind) {
    case 'grpc':
      return [
        `--set hub.address=${shellQuote(link.hubAddress)}`,
        link.trust.kind === 'tls' ? `--set-string hub.caBundle=${shellQuote(Buffer.from(link.trust.caBundle, 'utf8').toString('base64'))}` : '--set hub.insecure=true',
      ];
    case 'nats':
      return [
        '--set transport=nats',
        `--set-string nats.url=${shellQuote(link.servers.join('\\,'))}`,
        ...(link.caBundle !== undefined ? [`--set-string nats.caBundle=${shellQuote(Buffer.from(link.caBundle, 'utf8').toString('base64'))}`] : []),
        `--set-string nats.enrollmentJwt.value=${shellQuote(link.enrollmentJwt)}`,
      ];
  }
}
