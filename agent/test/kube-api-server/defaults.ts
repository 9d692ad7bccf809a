import { isMap, type JsonMap } from './field-set.js';
import type { KubeObject } from './types.js';

/**
 * Server-side defaulting of the built-in kinds: the fields kube-apiserver fills in that no manager
 * applied (replicas, strategies, container pull policy, Service cluster IPs...). They matter because a
 * GitOps agent must not mistake them for drift. Only the defaults a Flotilla App is likely to meet are
 * here; see README.md.
 */

/** Hands out Service cluster IPs and node ports, like the API server's allocators. */
export class Allocator {
  private nextIp = 1;
  private nextNodePort = 30000;

  clusterIp(): string {
    const ip = this.nextIp;
    this.nextIp += 1;
    return `10.96.${Math.floor(ip / 254) % 256}.${(ip % 254) + 1}`;
  }

  nodePort(): number {
    const port = this.nextNodePort;
    this.nextNodePort = port >= 32767 ? 30000 : port + 1;
    return port;
  }
}

const mapAt = (parent: JsonMap, name: string): JsonMap => {
  if (!isMap(parent[name])) parent[name] = {};
  return parent[name] as JsonMap;
};
const setDefault = (target: JsonMap, name: string, value: unknown): void => {
  if (target[name] === undefined || target[name] === null) target[name] = value;
};
const listOf = (value: unknown): JsonMap[] => (Array.isArray(value) ? value.filter(isMap) : []);

function defaultContainer(container: JsonMap): void {
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  const image = typeof container['image'] === 'string' ? container['image'] : '';
  const tag = /:([^/:@]+)$/.exec(image.split('@')[0] ?? '')?.[1];
  setDefault(container, 'imagePullPolicy', image.includes('@') || (tag !== undefined && tag !== 'latest') ? 'IfNotPresent' : 'Always');
  setDefault(container, 'resources', {});
  for (const port of listOf(container['ports'])) setDefault(port, 'protocol', 'TCP');
}

function defaultPodSpec(spec: JsonMap, restartPolicy = 'Always'): void {
  setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  for (const container of [...listOf(spec['containers']), ...listOf(spec['initContainers'])]) defaultContainer(container);
}

function defaultPodTemplate(spec: JsonMap, restartPolicy?: string): void {
  const template = mapAt(spec, 'template');
  defaultPodSpec(mapAt(template, 'spec'), restartPolicy);
}

function defaultJobSpec(spec: JsonMap, job?: { name: string; uid: string }): void {
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
  defaultPodTemplate(spec, 'Never');
  // The Job controller's selector and pod labels, generated once at creation.
  if (job !== undefined && spec['manualSelector'] !== true && spec['selector'] === undefined) {
    spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': job.uid } };
    const labels = mapAt(mapAt(mapAt(spec, 'template'), 'metadata'), 'labels');
    Object.assign(labels, {
      'batch.kubernetes.io/controller-uid': job.uid,
      'batch.kubernetes.io/job-name': job.name,
      'controller-uid': job.uid,
      'job-name': job.name,
    });
  }
}

function defaultService(spec: JsonMap, previous: JsonMap | undefined, allocator: Allocator): void {
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  const type = spec['type'];
  if (type !== 'ExternalName') {
    // Cluster IPs are immutable: a write that omits them keeps the allocated ones.
    setDefault(spec, 'clusterIP', previous?.['clusterIP'] ?? allocator.clusterIp());
    setDefault(spec, 'clusterIPs', previous?.['clusterIPs'] ?? [spec['clusterIP']]);
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  const previousPorts = listOf(previous?.['ports']);
  for (const port of listOf(spec['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    setDefault(port, 'targetPort', port['port']);
    if (type === 'NodePort' || type === 'LoadBalancer') {
      const before = previousPorts.find((candidate) => candidate['port'] === port['port'] && (candidate['protocol'] ?? 'TCP') === port['protocol']);
      setDefault(port, 'nodePort', before?.['nodePort'] ?? allocator.nodePort());
    }
  }
  if (type === 'NodePort' || type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
}

/**
 * Fills in defaults on `object` in place. `previous` is the stored object on updates (immutable
 * allocations carry over); `created` tells a create, when one-time fields (Job selectors) are generated.
 */
export function applyDefaults(object: KubeObject, previous: KubeObject | undefined, allocator: Allocator): void {
  const spec = (): JsonMap => mapAt(object, 'spec');
  const previousSpec = isMap(previous?.['spec']) ? previous['spec'] : undefined;
  switch (object.kind) {
    case 'Namespace': {
      object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name ?? '' };
      setDefault(spec(), 'finalizers', ['kubernetes']);
      setDefault(mapAt(object, 'status'), 'phase', 'Active');
      break;
    }
    case 'Secret': {
      setDefault(object, 'type', 'Opaque');
      // stringData is write-only: it lands base64-encoded in data and is never stored.
      if (isMap(object['stringData'])) {
        const data = mapAt(object, 'data');
        for (const [key, value] of Object.entries(object['stringData'])) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
        delete object['stringData'];
      }
      break;
    }
    case 'Service':
      defaultService(spec(), previousSpec, allocator);
      break;
    case 'Pod': {
      const podSpec = spec();
      defaultPodSpec(podSpec);
      setDefault(podSpec, 'serviceAccountName', 'default');
      setDefault(podSpec, 'enableServiceLinks', true);
      setDefault(podSpec, 'priority', 0);
      setDefault(mapAt(object, 'status'), 'phase', 'Pending');
      break;
    }
    case 'PersistentVolumeClaim':
      setDefault(spec(), 'volumeMode', 'Filesystem');
      setDefault(mapAt(object, 'status'), 'phase', 'Pending');
      break;
    case 'Deployment': {
      const deployment = spec();
      setDefault(deployment, 'replicas', 1);
      setDefault(deployment, 'revisionHistoryLimit', 10);
      setDefault(deployment, 'progressDeadlineSeconds', 600);
      const strategy = mapAt(deployment, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const rollingUpdate = mapAt(strategy, 'rollingUpdate');
        setDefault(rollingUpdate, 'maxSurge', '25%');
        setDefault(rollingUpdate, 'maxUnavailable', '25%');
      }
      defaultPodTemplate(deployment);
      break;
    }
    case 'StatefulSet': {
      const statefulSet = spec();
      setDefault(statefulSet, 'replicas', 1);
      setDefault(statefulSet, 'podManagementPolicy', 'OrderedReady');
      setDefault(statefulSet, 'revisionHistoryLimit', 10);
      const strategy = mapAt(statefulSet, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') setDefault(mapAt(strategy, 'rollingUpdate'), 'partition', 0);
      setDefault(statefulSet, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultPodTemplate(statefulSet);
      break;
    }
    case 'DaemonSet': {
      const daemonSet = spec();
      setDefault(daemonSet, 'revisionHistoryLimit', 10);
      const strategy = mapAt(daemonSet, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') {
        const rollingUpdate = mapAt(strategy, 'rollingUpdate');
        setDefault(rollingUpdate, 'maxSurge', 0);
        setDefault(rollingUpdate, 'maxUnavailable', 1);
      }
      defaultPodTemplate(daemonSet);
      break;
    }
    case 'ReplicaSet':
      setDefault(spec(), 'replicas', 1);
      defaultPodTemplate(spec());
      break;
    case 'Job':
      defaultJobSpec(spec(), previous === undefined ? { name: object.metadata.name ?? '', uid: object.metadata.uid ?? '' } : undefined);
      break;
    case 'CronJob': {
      const cronJob = spec();
      setDefault(cronJob, 'concurrencyPolicy', 'Allow');
      setDefault(cronJob, 'suspend', false);
      setDefault(cronJob, 'successfulJobsHistoryLimit', 3);
      setDefault(cronJob, 'failedJobsHistoryLimit', 1);
      defaultJobSpec(mapAt(mapAt(cronJob, 'jobTemplate'), 'spec'));
      break;
    }
    case 'CustomResourceDefinition':
      setDefault(spec(), 'conversion', { strategy: 'None' });
      break;
    default:
      break;
  }
}
