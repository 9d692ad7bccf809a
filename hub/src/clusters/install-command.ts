/** Quotes a value for a POSIX shell (single quotes, with embedded quotes escaped). */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The exact `helm install` of the agent chart (charts/flotilla-agent) for one cluster: release and
 * namespace, cluster name, hub address and the one-time bootstrap token. The cluster's labels live in
 * the hub (registerCluster, setClusterLabels), so the command does not repeat them.
 */
export function agentInstallCommand(cluster: { name: string }, hubAddress: string, bootstrapToken: string): string {
  const lines = [
    `helm install flotilla-agent charts/flotilla-agent --namespace flotilla-system --create-namespace`,
    `--set cluster.name=${shellQuote(cluster.name)}`,
    `--set hub.address=${shellQuote(hubAddress)}`,
    `--set bootstrapToken.value=${shellQuote(bootstrapToken)}`,
  ];
  return lines.join(' \\\n  ');
}
