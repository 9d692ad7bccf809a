import { beforeAll, describe, expect, it } from 'vitest';
import { credentialIssue, loadAgentConfig } from '../../agent/src/core/config.js';
import { NAMESPACE, ensureHelm, render } from './helm.js';
import { can, type Access } from './rbac.js';
import { byKind, containerOf, deploymentOf, podSpecOf, resolveEnv } from './rendered.js';

// The agent chart with the kube driver (env for the service account, state store, RBAC) and the NATS
// transport (env, credentials from Secrets, egress). Rendered env goes through the agent's own loader.

beforeAll(() => ensureHelm(), 300_000);

const AGENT_SA = { name: 'flotilla-flotilla-agent', namespace: NAMESPACE };
// What the kube driver does to every kind it manages: server-side apply (patch, and create for a new
// object), read, list and watch by label, delete on prune.
const DRIVER_VERBS = ['get', 'list', 'watch', 'create', 'patch', 'delete'] as const;
const STATE_STORE_VERBS = ['get', 'create', 'patch', 'delete'] as const;
const grants = (kinds: readonly { group: string; resource: string }[], verbs: readonly string[], namespace?: string): Access[] =>
  kinds.flatMap((kind) => verbs.map((verb) => ({ ...kind, verb, namespace })));
const WORKLOAD_KINDS = [
  { group: 'apps', resource: 'deployments' },
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'services' },
  { group: 'networking.k8s.io', resource: 'ingresses' },
];
const CLUSTER_KINDS = [
  { group: '', resource: 'namespaces' },
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
];

describe('flotilla-agent with the kube driver', () => {
  it.each([
    {
      values: 'agent-kube-grpc',
      config: {
        clusterName: 'eu-central-3',
        transport: { kind: 'grpc', hubAddress: 'flotilla-hub.example.com:4001' },
        bootstrapToken: 'flt_boot_placeholder',
        cacheStore: { kind: 'secret', namePrefix: 'flotilla-flotilla-agent' },
      },
    },
    {
      values: 'agent-kube-nats',
      config: {
        clusterName: 'us-west-2',
        transport: {
          kind: 'nats',
          servers: ['nats://nats-0.nats.example.com:4222', 'nats://nats-1.nats.example.com:4222'],
          auth: { kind: 'password', user: 'cluster-us-west-2', password: 'flt_boot_placeholder' },
          kvBucket: 'fleet-desired',
        },
        bootstrapToken: undefined,
        cacheStore: { kind: 'file' },
      },
    },
    {
      values: 'agent-kube-nats-creds',
      config: {
        clusterName: 'edge-store-042',
        transport: { kind: 'nats', servers: ['tls://connect.ngs.example.com'], auth: { kind: 'creds', file: '/etc/flotilla/nats/edge-store-042.creds' }, kvBucket: 'flotilla-desired' },
        bootstrapToken: undefined,
        cacheStore: { kind: 'secret', namePrefix: 'flotilla-state' },
      },
    },
  ])('renders an env the agent loader accepts, with the service account and the pod namespace ($values)', ({ values, config }) => {
    const manifests = render('flotilla-agent', [values]);
    const loaded = loadAgentConfig(resolveEnv(containerOf(manifests), 'flt_boot_placeholder'));
    expect(loaded).toMatchObject({ ok: true, config: { ...config, driver: { kind: 'kube' }, kube: { kubeconfig: undefined, agentNamespace: NAMESPACE } } });
    // Nothing stored yet: over gRPC the bootstrap token is the way in, over NATS none is needed.
    expect(loaded.ok && credentialIssue(false, loaded.config)).toBeUndefined();
    expect(podSpecOf(deploymentOf(manifests)).automountServiceAccountToken).toBe(true);
  });

  it('mounts the NATS .creds file read-only from its Secret, and only its key', () => {
    const pod = podSpecOf(deploymentOf(render('flotilla-agent', ['agent-kube-nats-creds'])));
    expect(pod.volumes?.find((v) => v['name'] === 'nats-creds')).toEqual({
      name: 'nats-creds',
      secret: { secretName: 'flotilla-nats-creds', items: [{ key: 'edge-store-042.creds', path: 'edge-store-042.creds' }], defaultMode: 0o440 },
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'nats-creds', mountPath: '/etc/flotilla/nats', readOnly: true });
  });

  it('needs neither a hub address nor a bootstrap token over NATS, and renders no token Secret', () => {
    const manifests = render('flotilla-agent', ['agent-kube-nats']);
    const env = resolveEnv(containerOf(manifests), 'x');
    expect(env).not.toHaveProperty('FLOTILLA_HUB_ADDRESS');
    expect(env).not.toHaveProperty('FLOTILLA_BOOTSTRAP_TOKEN');
    expect(byKind(manifests, 'Secret')).toEqual([]);
  });

  it.each([
    { what: 'kube on an emptyDir keeps state in Secrets', args: ['--set', 'driver=kube'], store: { kind: 'secret', namePrefix: 'flotilla-flotilla-agent' } },
    { what: 'kube on a PVC keeps the file store', args: ['--set', 'driver=kube', '--set', 'cache.type=pvc'], store: { kind: 'file' } },
    { what: 'kube with cache.store file keeps files even on an emptyDir', args: ['--set', 'driver=kube', '--set', 'cache.store=file'], store: { kind: 'file' } },
    { what: 'the default driver (kube) on an emptyDir keeps state in Secrets', args: [], store: { kind: 'secret', namePrefix: 'flotilla-flotilla-agent' } },
    { what: 'sim on an emptyDir keeps the file store', args: ['--set', 'driver=sim'], store: { kind: 'file' } },
    { what: 'sim with cache.store secret uses Secrets', args: ['--set', 'driver=sim', '--set', 'cache.store=secret'], store: { kind: 'secret', namePrefix: 'flotilla-flotilla-agent' } },
  ])('cache.store auto: $what', ({ args, store }) => {
    const manifests = render('flotilla-agent', ['agent-minimal'], args);
    const loaded = loadAgentConfig(resolveEnv(containerOf(manifests), 'flt_boot_x'));
    expect(loaded).toMatchObject({ ok: true, config: { cacheStore: store } });
    const usesApi = store.kind === 'secret' || !args.includes('driver=sim');
    expect(podSpecOf(deploymentOf(manifests)).automountServiceAccountToken).toBe(usesApi);
    expect(byKind(manifests, 'Role').some((role) => role.metadata.name === 'flotilla-flotilla-agent-state')).toBe(store.kind === 'secret');
  });

  it.each<{ values: string; args?: string[]; allowed: Access[]; denied: Access[] }>([
    {
      values: 'agent-kube-grpc',
      allowed: [
        ...grants(WORKLOAD_KINDS, DRIVER_VERBS, 'any-team'),
        ...grants(WORKLOAD_KINDS, ['list', 'watch']),
        ...grants(CLUSTER_KINDS, DRIVER_VERBS),
        ...grants([{ group: 'monitoring.coreos.com', resource: 'servicemonitors' }], DRIVER_VERBS, 'any-team'),
        ...grants([{ group: '', resource: 'secrets' }], STATE_STORE_VERBS, NAMESPACE),
      ],
      denied: [
        { verb: 'update', group: 'apps', resource: 'deployments', namespace: 'any-team' },
        { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
        { verb: 'get', group: '', resource: 'nodes' },
      ],
    },
    {
      values: 'agent-kube-nats',
      allowed: [...grants(WORKLOAD_KINDS, DRIVER_VERBS, 'shop'), ...grants(WORKLOAD_KINDS, DRIVER_VERBS, 'payments')],
      denied: [
        ...grants(WORKLOAD_KINDS, ['create'], 'kube-system'),
        ...grants(WORKLOAD_KINDS, ['list']),
        ...grants(CLUSTER_KINDS, ['create', 'delete']),
        // The file store (PVC) needs no Secret access in the agent's own namespace.
        { verb: 'get', group: '', resource: 'secrets', namespace: NAMESPACE },
      ],
    },
    {
      values: 'agent-kube-nats-creds',
      allowed: [
        ...grants(WORKLOAD_KINDS, DRIVER_VERBS, 'any-team'),
        ...grants(CLUSTER_KINDS, DRIVER_VERBS),
        { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
        { verb: 'create', group: 'example.com', resource: 'widgets', namespace: 'any-team' },
      ],
      denied: [],
    },
    {
      values: 'agent-minimal',
      args: ['--set', 'driver=kube'],
      allowed: [...grants(WORKLOAD_KINDS, DRIVER_VERBS, NAMESPACE), ...grants([{ group: '', resource: 'secrets' }], STATE_STORE_VERBS, NAMESPACE)],
      denied: [...grants(WORKLOAD_KINDS, ['create'], 'default'), ...grants(CLUSTER_KINDS, ['get'])],
    },
  ])('grants the kube driver what it needs and nothing beyond its scope ($values $args)', ({ values, args, allowed, denied }) => {
    const manifests = render('flotilla-agent', [values], args ?? []);
    for (const access of allowed) expect(can(manifests, AGENT_SA, access), `may ${JSON.stringify(access)}`).toBe(true);
    for (const access of denied) expect(can(manifests, AGENT_SA, access), `may not ${JSON.stringify(access)}`).toBe(false);
  });

  it.each([
    { values: 'agent-kube-grpc', args: [], listed: true },
    { values: 'agent-kube-grpc', args: ['--set', 'rbac.clusterAdmin=true'], listed: true },
    // Only a cluster-wide agent can be granted (cluster-scoped) webhook configurations; a namespaced one needs no endpoints.
    { values: 'agent-kube-nats', args: [], listed: false },
  ])("lets a cluster-wide driver list and watch EndpointSlices for webhook health, and never change them ($values $args)", ({ values, args, listed }) => {
    const manifests = render('flotilla-agent', [values], args);
    const slices = { group: 'discovery.k8s.io', resource: 'endpointslices' };
    for (const verb of ['list', 'watch']) {
      expect(can(manifests, AGENT_SA, { ...slices, verb, namespace: 'cert-manager' }), verb).toBe(listed);
      expect(can(manifests, AGENT_SA, { ...slices, verb }), `${verb} cluster-wide`).toBe(listed);
    }
    if (!args.includes('rbac.clusterAdmin=true')) {
      for (const verb of ['create', 'patch', 'delete']) expect(can(manifests, AGENT_SA, { ...slices, verb, namespace: 'cert-manager' }), verb).toBe(false);
    }
  });

  it.each([
    { values: 'agent-kube-nats', port: 4222, to: [{ ipBlock: { cidr: '198.51.100.0/28' } }], kubeApi: 443 },
    { values: 'agent-kube-grpc', port: 4001, to: [{ ipBlock: { cidr: '203.0.113.10/32' } }], kubeApi: 6443 },
  ])('lets egress reach the link of its transport, DNS and the API server ($values)', ({ values, port, to, kubeApi }) => {
    const [policy] = byKind(render('flotilla-agent', [values]), 'NetworkPolicy');
    const egress = (policy?.['spec'] as { egress: { ports: { port: number }[]; to?: object[] }[] }).egress;
    expect(egress.map((rule) => rule.ports.map((p) => p.port))).toEqual([[port], [53, 53], [kubeApi]]);
    expect(egress[0]?.to).toEqual(to);
  });

  it.each([
    {
      example: 'kube over gRPC',
      args: ['cluster.name=eu-west-1', 'hub.address=flotilla-hub.example.com:4001', 'hub.caSecret=flotilla-hub-ca', 'bootstrapToken.value=flt_boot_abc', 'driver=kube', 'rbac.clusterWide=true'],
      transport: { kind: 'grpc' },
    },
    {
      example: 'kube over NATS',
      args: ['cluster.name=eu-west-1', 'transport=nats', 'nats.url=nats://nats-0.example.com:4222\\,nats://nats-1.example.com:4222', 'nats.user=eu-west-1', 'nats.existingSecret=flotilla-nats', 'driver=kube', 'rbac.clusterWide=true'],
      transport: { kind: 'nats', servers: ['nats://nats-0.example.com:4222', 'nats://nats-1.example.com:4222'], auth: { kind: 'password', user: 'eu-west-1' } },
    },
  ])('installs as charts/README.md shows: $example', ({ args, transport }) => {
    const manifests = render('flotilla-agent', [], args.flatMap((arg) => ['--set', arg]), 'flotilla-agent');
    const loaded = loadAgentConfig(resolveEnv(containerOf(manifests), 'from-secret'));
    expect(loaded).toMatchObject({ ok: true, config: { transport, driver: { kind: 'kube' }, cacheStore: { kind: 'secret', namePrefix: 'flotilla-agent' } } });
    expect(byKind(manifests, 'ClusterRoleBinding').map((m) => m.metadata.name)).toEqual(['flotilla-agent']);
  });
});
