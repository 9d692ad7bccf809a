/** Quotes a value for a POSIX shell (single quotes, with embedded quotes escaped). */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** How the agent is to verify the hub: the CA bundle (PEM) it must trust, or plaintext when the hub serves no TLS. */
export type AgentLinkTrust = { readonly kind: 'tls'; readonly caBundle: string } | { readonly kind: 'insecure' };

/**
 * The exact `helm install` of the agent chart (charts/flotilla-agent) for one cluster: release and
 * namespace, cluster name, hub address, the CA the agent verifies the hub with, and the one-time
 * bootstrap token. The CA travels base64-encoded (`hub.caBundle` takes PEM or base64) so that the
 * command stays one copy-pasteable line per value; `--set-string` keeps helm from reading it as
 * anything but a string. The cluster's labels live in the hub (registerCluster, setClusterLabels), so
 * the command does not repeat them.
 */
export function agentInstallCommand(cluster: { name: string }, hubAddress: string, bootstrapToken: string, trust: AgentLinkTrust): string {
  const lines = [
    `helm install flotilla-agent charts/flotilla-agent --namespace flotilla-system --create-namespace`,
    `--set cluster.name=${shellQuote(cluster.name)}`,
    `--set hub.address=${shellQuote(hubAddress)}`,
    trust.kind === 'tls' ? `--set-string hub.caBundle=${shellQuote(Buffer.from(trust.caBundle, 'utf8').toString('base64'))}` : '--set hub.insecure=true',
    `--set bootstrapToken.value=${shellQuote(bootstrapToken)}`,
  ];
  return lines.join(' \\\n  ');
}
