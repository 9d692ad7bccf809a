import { stringify } from 'yaml';

/**
 * A complete kubeconfig for `server`: one cluster, one user (with `token` when set), one current context.
 * `insecure-skip-tls-verify` is set because @kubernetes/client-node refuses a plain-HTTP server without
 * it ("HTTP protocol is not allowed when skipTLSVerify is not set"); kubectl ignores it for http://.
 */
export function kubeconfigFor(server: string, token: string | undefined, namespace: string): string {
  const name = 'kube-api-test-server';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: token === undefined ? {} : { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace } }],
    'current-context': name,
    preferences: {},
  });
}
