import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../../test/harness/ports.js';

const root = join(__dirname, '../../..');
export const helmBinary = join(root, '.tools/bin/helm');
/** The chart the tests package: a ConfigMap (with a `{{ }}` file), a Deployment, a pre-install hook Job, a CRD and a test Pod. */
export const chartFixture = join(root, 'test/fixtures/charts/web');

/** Chart versions packaged: 1.1.0 changes the greeting, 9.9.9 fails to render, 8.0.0 prints a lot. */
export const CHART_VERSIONS = ['1.0.0', '1.1.0', '8.0.0', '9.9.9'];

export interface ChartRepos {
  /** Where the packaged charts (`web-<version>.tgz`) and index.yaml are. */
  readonly repoDir: string;
  /** The HTTP chart repository on loopback (basic auth: `flotilla` / `password`). */
  readonly httpURL: string;
  readonly password: string;
  /** Every path the HTTP repository was asked for, in order. */
  readonly requests: string[];
  /** `oci://127.0.0.1:<port>/charts` on a docker-registry (no auth, plain HTTP), holding 1.0.0, 1.1.0 and 9.9.9. */
  readonly ociURL: string;
  /** A hub repositories file naming `local-http` (with credentials), `local-oci` and `other`. */
  readonly repositoriesFile: string;
  stop(): Promise<void>;
}

/**
 * Packages the fixture chart in several versions with the real helm, serves them from a chart
 * repository on loopback (`helm repo index` + a static server behind basic auth) and pushes three of
 * them to a real OCI registry (Debian's docker-registry) on loopback. Everything lives under `scratch`.
 */
export async function startChartRepos(scratch: string, password: string): Promise<ChartRepos> {
  const repoDir = join(scratch, 'repo');
  mkdirSync(repoDir, { recursive: true });
  const helmEnv = { ...process.env, HELM_CACHE_HOME: join(scratch, 'helm/cache'), HELM_CONFIG_HOME: join(scratch, 'helm/config'), HELM_DATA_HOME: join(scratch, 'helm/data') };
  const helm = (...args: string[]) => execFileSync(helmBinary, args, { env: helmEnv, stdio: 'pipe' }).toString();
  for (const version of CHART_VERSIONS) {
    const dir = join(scratch, 'src', version, 'web');
    cpSync(chartFixture, dir, { recursive: true });
    if (version === '1.1.0') writeFileSync(join(dir, 'values.yaml'), readFileSync(join(dir, 'values.yaml'), 'utf8').replace('greeting: hello', 'greeting: bonjour'));
    if (version === '9.9.9') writeFileSync(join(dir, 'templates/broken.yaml'), '{{ fail "broken on purpose" }}\n');
    if (version === '8.0.0') writeFileSync(join(dir, 'templates/huge.yaml'), '{{- range until 200000 }}\n# padding line {{ . }}\n{{- end }}\n');
    helm('package', dir, '--version', version, '--destination', repoDir);
  }
  helm('repo', 'index', repoDir);

  const requests: string[] = [];
  const port = await freePort();
  const http: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.headers.authorization !== `Basic ${Buffer.from(`flotilla:${password}`).toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
    try {
      const body = readFileSync(join(repoDir, (req.url ?? '/').replace(/^\/+/, '').replace(/\.\./g, '')));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const httpURL = `http://127.0.0.1:${port}`;

  const registryPort = await freePort();
  const registryConfig = join(scratch, 'registry.yml');
  writeFileSync(registryConfig, `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${join(scratch, 'registry')} } }\nhttp: { addr: 127.0.0.1:${registryPort} }\n`);
  const registry: ChildProcess = spawn('docker-registry', ['serve', registryConfig], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await fetch(`http://127.0.0.1:${registryPort}/v2/`).then((r) => r.status === 200, () => false);
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ociURL = `oci://127.0.0.1:${registryPort}/charts`;
  for (const version of ['1.0.0', '1.1.0', '9.9.9']) helm('push', join(repoDir, `web-${version}.tgz`), ociURL, '--plain-http');

  const secrets = join(scratch, 'secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'username'), 'flotilla\n');
  writeFileSync(join(secrets, 'password'), `${password}\n`);
  const repositoriesFile = join(scratch, 'repositories.yaml');
  writeFileSync(
    repositoriesFile,
    `repositories:\n  - { name: local-http, url: "${httpURL}", usernameFile: ${join(secrets, 'username')}, passwordFile: ${join(secrets, 'password')} }\n  - { name: local-oci, url: "${ociURL}", plainHttp: true }\n  - { name: other, url: "https://charts.example.com" }\n`,
  );

  return {
    repoDir,
    httpURL,
    password,
    requests,
    ociURL,
    repositoriesFile,
    async stop() {
      if (registry.pid !== undefined) process.kill(registry.pid, 'SIGTERM');
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
