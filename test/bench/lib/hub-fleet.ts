/**
 * Shared set-up of the scenarios that drive a real hub process with simulated gRPC agents (S3, S4,
 * S6): the hub with product timings and an inspector, cluster registration in batches, the hub's
 * Prometheus counters, and a one-ConfigMap AppSet.
 */
import { graphqlClient } from '../../harness/graphql.js';
import { startHub, type HubOptions, type HubProcess } from '../../harness/processes.js';
import { INSPECT_OPTION, inspectorUrlOf } from './inspector.js';
import type { AgentTarget } from './sim-agents.js';

export type Api = ReturnType<typeof graphqlClient>;

/** The product's defaults for the timings the test harness shortens. */
export const PRODUCT_TIMINGS = {
  FLOTILLA_HEARTBEAT_SECONDS: '10',
  FLOTILLA_INVENTORY_SECONDS: '60',
  FLOTILLA_OUTBOX_SCAN_MS: '1000',
};

export interface InspectableHub extends HubProcess {
  /** The hub's DevTools URL (see lib/inspector.ts). */
  readonly inspectorUrl: string;
}

/** startHub with product timings and an inspector on a free port (through NODE_OPTIONS). */
export async function startInspectableHub(options: HubOptions): Promise<InspectableHub> {
  const inherited = process.env['NODE_OPTIONS'] ?? '';
  const hub = await startHub({ ...options, env: { ...PRODUCT_TIMINGS, ...options.env, NODE_OPTIONS: `${inherited} ${INSPECT_OPTION}`.trim() } });
  // Read now: the harness keeps only the last 200 lines of output, and agents' connections log.
  const inspectorUrl = inspectorUrlOf(hub.output);
  if (!inspectorUrl) {
    await hub.stop('SIGKILL');
    throw new Error(`the hub printed no inspector URL\n${hub.tail()}`);
  }
  return Object.assign(hub, { inspectorUrl });
}

/**
 * Registers clusters `names` (100 per GraphQL request) with the labels `labelsOf` gives; returns gRPC
 * agent targets holding their bootstrap tokens (replaced by the issued credential at first Welcome) and
 * the hub's agent-link CA.
 */
export async function registerGrpcClusters(
  api: Api,
  names: readonly string[],
  labelsOf: (name: string, index: number) => Record<string, string>,
  hub: Pick<HubProcess, 'grpcAddress' | 'caBundle'>,
): Promise<AgentTarget[]> {
  const targets: AgentTarget[] = [];
  for (let start = 0; start < names.length; start += 100) {
    const batch = names.slice(start, start + 100);
    const fields = batch.map((name, k) => {
      const labels = Object.entries(labelsOf(name, start + k))
        .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
        .join(', ');
      return `c${k}: registerCluster(input: { name: ${JSON.stringify(name)}, labels: { ${labels} } }) { bootstrapToken }`;
    });
    const data = await api.must<Record<string, { bootstrapToken: string }>>(`mutation { ${fields.join('\n')} }`);
    batch.forEach((name, k) => targets.push({ transport: 'grpc', address: hub.grpcAddress, caPem: hub.caBundle, cluster: name, bootstrapToken: data[`c${k}`]!.bootstrapToken }));
  }
  return targets;
}

/** Sum of every sample of the metric family `name` on the hub's /metrics (0 when absent). */
export async function hubMetric(hub: HubProcess, name: string): Promise<number> {
  const response = await fetch(hub.graphqlUrl.replace(/\/graphql$/, '/metrics'));
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** One small ConfigMap per selected cluster; `round` changes its content (a new revision). */
export function configMapAppSet(name: string, selector: Record<string, string>, round: number): string {
  const labels = Object.entries(selector)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  return `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: { selector: { matchLabels: { ${labels} } } }
  template:
    namespace: bench
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: { round: "${round}", padding: "${'x'.repeat(512)}" }
`;
}

/** Applies `yaml` (staging only) and returns the staged revision of its first App. */
export async function stageAppSet(api: Api, name: string, yaml: string): Promise<string> {
  const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: yaml });
  if (applied.applyAppSet.issues.length > 0) throw new Error(`applyAppSet: ${JSON.stringify(applied.applyAppSet.issues)}`);
  const staged = await api.must<{ appSet: { apps: { stagedRevision: string }[] } }>(`query($n: String!) { appSet(name: $n) { apps(first: 1) { stagedRevision } } }`, { n: name });
  return staged.appSet.apps[0]!.stagedRevision;
}

/** Starts a rollout of `appSet` with `strategy`; returns its id. */
export async function startRollout(api: Api, appSet: string, strategy: Record<string, unknown>): Promise<string> {
  const data = await api.must<{ startRollout: { id: string } }>(`mutation($a: String!, $s: JSONObject) { startRollout(appSet: $a, strategy: $s) { id } }`, { a: appSet, s: strategy });
  return data.startRollout.id;
}
