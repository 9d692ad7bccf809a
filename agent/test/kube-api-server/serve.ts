import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiTestServer } from './index.js';

/**
 * Starts a test API server for manual use and prints the path of its kubeconfig. The workspace has no
 * TypeScript runner, so vite (which vitest brings) runs it, from the repository root:
 *   node --input-type=module -e "await (await import('vite')).runnerImport('./agent/test/kube-api-server/serve.ts', { configFile: false })"
 *   kubectl --kubeconfig <printed path> get namespaces
 * The port is PORT, else a free one. Stops on Ctrl-C.
 */
const port = Number(process.env['PORT'] ?? '0');
const server = await KubeApiTestServer.start({ port });
const folder = await mkdtemp(join(tmpdir(), 'kube-api-test-server-'));
const path = join(folder, 'kubeconfig');
await server.writeKubeconfig(path);
console.log(`kube-api-test-server at ${server.url}`);
console.log(`kubeconfig: ${path}`);
const stop = (): void => {
  void server
    .close()
    .then(() => rm(folder, { recursive: true, force: true }))
    .then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
