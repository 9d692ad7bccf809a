import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { agentInstallCommand } from '../../hub/src/clusters/install-command.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/src/core/config.js';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { CHARTS, ensureHelm, helm, render, valuesArgs } from './helm.js';
import { validateManifest } from './kubernetes-schemas.js';
import { POD_NAME, SECRET_VARIABLES, byKind, containerOf, deploymentOf, envOf, podSpecOf, resolveEnv } from './rendered.js';
import { join } from 'node:path';

// The charts are checked with the real helm (schema, lint, template) and the rendered objects against
// the Kubernetes OpenAPI schemas; the agent's env is fed to the agent's own config loader (the hub's to
// the hub's) so that chart and code cannot drift apart. The kube driver and the NATS transport are in
// agent-kube-nats.spec.ts; the hub's API authentication in hub-auth.spec.ts.

const AGENT_CASES = [
  { values: 'agent-minimal', cluster: 'eu-west-1', hub: 'flotilla-hub.example.com:4001', logLevel: 'info', probePort: 8080, store: 'secret' },
  // State on a PVC: the file store.
  { values: 'agent-cluster-wide', cluster: 'us-east-prod-7', hub: '10.20.30.40:4001', logLevel: 'debug', probePort: 9090, store: 'file' },
  { values: 'agent-existing-secret', cluster: 'ap-south-2', hub: 'hub.flotilla.internal:4001', logLevel: 'warn', probePort: 8080, store: 'secret' },
] as const;
const AGENT_KUBE_CASES = ['agent-kube-grpc', 'agent-kube-nats', 'agent-kube-nats-creds'] as const;
const AGENT_NATS_CASES = ['agent-nats-enrollment', 'agent-nats-ca-bundle'] as const;
const HUB_CASES = ['hub-minimal', 'hub-ha', 'hub-nats', 'hub-nats-operator', 'hub-auth', 'hub-admin-token'] as const;
/** The CA of the agent test values (hub.caBundle), PEM. */
const HUB_CA = readFileSync(new URL('./fixtures/hub-ca.crt', import.meta.url), 'utf8');
/** A FLOTILLA_CA_ENCRYPTION_KEY as the hub chart's Secret holds it. */
const CA_KEY = Buffer.alloc(32, 7).toString('base64');

const VALID_CASES = [
  ...AGENT_CASES.map((c) => ({ chart: 'flotilla-agent', values: c.values })),
  ...AGENT_KUBE_CASES.map((values) => ({ chart: 'flotilla-agent', values })),
  ...AGENT_NATS_CASES.map((values) => ({ chart: 'flotilla-agent', values })),
  ...HUB_CASES.map((values) => ({ chart: 'flotilla-hub', values })),
];

beforeAll(() => ensureHelm(), 300_000);

describe.each(VALID_CASES)('$chart with $values', ({ chart, values }) => {
  it('passes helm lint', () => {
    const lint = helm(['lint', join(CHARTS, chart), '--strict', ...valuesArgs([values])]);
    expect(lint.stderr + lint.stdout).toContain('0 chart(s) failed');
    expect(lint.status).toBe(0);
  });

  it('renders objects that match the Kubernetes schemas and carry the standard labels', () => {
    const manifests = render(chart, [values]);
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) {
      expect(() => validateManifest(manifest), `${manifest.kind}/${manifest.metadata.name}`).not.toThrow();
      expect(manifest.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': chart,
        'app.kubernetes.io/instance': 'flotilla',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'flotilla',
      });
    }
  });

  it('runs a hardened pod: non-root, read-only root FS, RuntimeDefault seccomp, no capabilities, limits, probes', () => {
    const pod = podSpecOf(deploymentOf(render(chart, [values])));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    for (const container of pod.containers) {
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.resources?.requests).toBeDefined();
      expect(container.resources?.limits).toBeDefined();
      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container.readinessProbe?.httpGet?.path).toBe(chart === 'flotilla-agent' ? '/readyz' : '/healthz');
    }
  });

  it('never carries a secret inline: secret variables come from Secrets, files from read-only Secret volumes', () => {
    const pod = podSpecOf(deploymentOf(render(chart, [values])));
    for (const container of pod.containers) {
      for (const entry of (container.env ?? []).filter((e) => SECRET_VARIABLES.includes(e.name))) {
        expect(entry.value, entry.name).toBeUndefined();
        expect(entry.valueFrom?.secretKeyRef, entry.name).toBeDefined();
      }
      const creds = envOf(container, 'FLOTILLA_NATS_CREDS')?.value;
      if (creds !== undefined) {
        const mount = container.volumeMounts?.find((m) => creds.startsWith(`${m.mountPath}/`));
        expect(mount?.readOnly).toBe(true);
        expect(pod.volumes?.find((v) => v['name'] === mount?.name)?.['secret']).toBeDefined();
      }
    }
  });
});

describe('the kubernetes-models check itself', () => {
  it('refuses an object that breaks its schema', () => {
    const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } };
    expect(() => validateManifest(broken)).toThrow(/replicas/);
  });
});

/** Roles (or bindings) for the managed objects: all but the `-state` one the Secret state store needs. */
const workloadRoles = (manifests: Parameters<typeof byKind>[0], kind: 'Role' | 'RoleBinding') => byKind(manifests, kind).filter((m) => !m.metadata.name?.endsWith('-state'));

describe('flotilla-agent', () => {
  it.each(AGENT_CASES)('renders an env the agent loader accepts as is ($values)', ({ values, cluster, hub, logLevel, probePort, store }) => {
    const container = containerOf(render('flotilla-agent', [values]));
    const loaded = loadAgentConfig(resolveEnv(container, 'flt_boot_placeholder'));
    expect(loaded).toMatchObject({
      ok: true,
      config: {
        clusterName: cluster,
        transport: { kind: 'grpc', hubAddress: hub },
        bootstrapToken: 'flt_boot_placeholder',
        stateDir: '/var/lib/flotilla',
        driver: { kind: 'kube' },
        cacheStore: { kind: store },
        logLevel,
        probePort,
      },
    });
    expect(container.command).toEqual(['node', 'agent/dist/main.js']);
    expect(container.ports).toContainEqual({ name: 'probes', containerPort: probePort, protocol: 'TCP' });
    expect(container.volumeMounts).toContainEqual({ name: 'state', mountPath: '/var/lib/flotilla' });
  });

  it('passes the bootstrap token through a Secret and never inline in the Deployment', () => {
    const manifests = render('flotilla-agent', ['agent-minimal']);
    const container = containerOf(manifests);
    const token = envOf(container, 'FLOTILLA_BOOTSTRAP_TOKEN');
    expect(token?.value).toBeUndefined();
    expect(token?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-flotilla-agent-bootstrap-token', key: 'token' });
    expect(JSON.stringify(deploymentOf(manifests))).not.toContain('flt_boot_0123456789abcdef');
    const [secret] = byKind(manifests, 'Secret');
    expect(secret?.metadata.name).toBe('flotilla-flotilla-agent-bootstrap-token');
    expect(Buffer.from((secret?.['data'] as Record<string, string>)['token']!, 'base64').toString()).toBe('flt_boot_0123456789abcdef');
  });

  it('uses an existing Secret for the token and renders none of its own', () => {
    const manifests = render('flotilla-agent', ['agent-existing-secret']);
    expect(byKind(manifests, 'Secret')).toEqual([]);
    expect(envOf(containerOf(manifests), 'FLOTILLA_BOOTSTRAP_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'flotilla-bootstrap',
      key: 'bootstrap-token',
    });
  });

  it('grants a Role and RoleBinding in the release namespace only, by default', () => {
    const manifests = render('flotilla-agent', ['agent-minimal']);
    expect(byKind(manifests, 'ClusterRole')).toEqual([]);
    expect(byKind(manifests, 'ClusterRoleBinding')).toEqual([]);
    expect(workloadRoles(manifests, 'Role').map((m) => m.metadata.namespace)).toEqual(['flotilla-system']);
    const [binding] = workloadRoles(manifests, 'RoleBinding');
    expect(binding?.['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'flotilla-flotilla-agent', namespace: 'flotilla-system' }]);
  });

  it('grants a Role and RoleBinding in each namespace of rbac.namespaces', () => {
    const manifests = render('flotilla-agent', ['agent-existing-secret']);
    expect(workloadRoles(manifests, 'Role').map((m) => m.metadata.namespace)).toEqual(['team-a', 'team-b']);
    expect(workloadRoles(manifests, 'RoleBinding').map((m) => m.metadata.namespace)).toEqual(['team-a', 'team-b']);
    expect(byKind(manifests, 'ClusterRole')).toEqual([]);
  });

  it('grants a ClusterRole and ClusterRoleBinding instead with rbac.clusterWide', () => {
    const manifests = render('flotilla-agent', ['agent-cluster-wide']);
    expect(workloadRoles(manifests, 'Role')).toEqual([]);
    expect(workloadRoles(manifests, 'RoleBinding')).toEqual([]);
    const [role] = byKind(manifests, 'ClusterRole');
    expect(role?.['rules']).toContainEqual({ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] });
    expect(byKind(manifests, 'ClusterRoleBinding')).toHaveLength(1);
  });

  it('keeps the state dir on a PVC with cache.type pvc, and on a bounded emptyDir by default', () => {
    const pvcVolume = podSpecOf(deploymentOf(render('flotilla-agent', ['agent-cluster-wide']))).volumes?.find((v) => v['name'] === 'state');
    expect(pvcVolume).toEqual({ name: 'state', persistentVolumeClaim: { claimName: 'flotilla-flotilla-agent-state' } });
    const emptyDirVolume = podSpecOf(deploymentOf(render('flotilla-agent', ['agent-minimal']))).volumes?.find((v) => v['name'] === 'state');
    expect(emptyDirVolume).toEqual({ name: 'state', emptyDir: { sizeLimit: '1Gi' } });
  });

  it('limits egress to the hub, DNS and the Kubernetes API when the NetworkPolicy is on', () => {
    const [policy] = byKind(render('flotilla-agent', ['agent-cluster-wide']), 'NetworkPolicy');
    const egress = (policy?.['spec'] as { egress: { ports: { port: number }[]; to?: object[] }[] }).egress;
    expect(egress.map((rule) => rule.ports.map((p) => p.port))).toEqual([[4001], [53, 53], [443]]);
    expect(egress[0]?.to).toEqual([{ ipBlock: { cidr: '10.20.30.40/32' } }]);
    expect(egress[2]?.to).toEqual([{ ipBlock: { cidr: '10.96.0.1/32' } }]);
    expect(byKind(render('flotilla-agent', ['agent-minimal']), 'NetworkPolicy')).toEqual([]);
  });

  it('renders a ServiceMonitor only when asked', () => {
    expect(byKind(render('flotilla-agent', ['agent-minimal']), 'ServiceMonitor')).toEqual([]);
    expect(byKind(render('flotilla-agent', ['agent-cluster-wide']), 'ServiceMonitor')).toHaveLength(1);
  });

  it('installs as the README says, with --set only, under the names it quotes', () => {
    const args = ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=flotilla-hub.example.com:4001', '--set-string', `hub.caBundle=${Buffer.from(HUB_CA).toString('base64')}`, '--set', 'bootstrapToken.value=flt_boot_abc'];
    const manifests = render('flotilla-agent', [], args, 'flotilla-agent');
    expect(loadAgentConfig(resolveEnv(containerOf(manifests), 'flt_boot_abc')).ok).toBe(true);
    expect(deploymentOf(manifests).metadata.name).toBe('flotilla-agent');
    expect(byKind(manifests, 'Secret').map((m) => m.metadata.name)).toEqual(['flotilla-agent-bootstrap-token']);
    expect(byKind(manifests, 'ConfigMap').map((m) => m.metadata.name)).toEqual(['flotilla-agent-hub-ca']);
    const hub = render('flotilla-hub', [], ['--set', 'database.url=postgresql://flotilla:PASSWORD@postgres.example.com:5432/flotilla'], 'flotilla-hub');
    expect(byKind(hub, 'Service').map((m) => m.metadata.name)).toEqual(['flotilla-hub']);
  });
});

describe('the install command registerCluster returns', () => {
  it('installs the agent chart as written, with the cluster name, hub address, the hub CA (as the very PEM) and token', () => {
    const command = agentInstallCommand({ name: 'eu-west-1' }, { kind: 'grpc', hubAddress: 'hub.example.com:4001', trust: { kind: 'tls', caBundle: HUB_CA } }, 'flt_boot_x-Y_z');
    // Let the shell split the command exactly as a user's would, with helm replaced by an argument printer.
    const printed = spawnSync('sh', ['-c', `helm() { for a; do printf '%s\\0' "$a"; done; }\n${command}`], { encoding: 'utf8' });
    const argv = printed.stdout.split('\0').filter(Boolean);
    expect(argv.slice(0, 3)).toEqual(['install', 'flotilla-agent', 'charts/flotilla-agent']);
    const sets = argv.slice(3).filter((a) => !['--namespace', 'flotilla-system', '--create-namespace'].includes(a));
    const manifests = render('flotilla-agent', [], sets, 'flotilla-agent');
    const env = resolveEnv(containerOf(manifests), 'flt_boot_x-Y_z');
    const loaded = loadAgentConfig(env);
    expect(loaded).toMatchObject({ ok: true, config: { transport: { tls: { kind: 'tls', ca: { kind: 'file', path: '/etc/flotilla/hub-ca/ca.crt' } } } } });
    expect(env).toMatchObject({ FLOTILLA_CLUSTER_NAME: 'eu-west-1', FLOTILLA_HUB_ADDRESS: 'hub.example.com:4001' });
    // What the agent reads from FLOTILLA_HUB_CA_FILE is the hub's PEM, byte for byte but the final newline.
    const [configMap] = byKind(manifests, 'ConfigMap');
    expect((configMap?.['data'] as Record<string, string>)['ca.crt']?.trim()).toBe(HUB_CA.trim());
  });

  it('dials in plaintext when the hub serves plaintext (FLOTILLA_GRPC_INSECURE)', () => {
    const command = agentInstallCommand({ name: 'dev-1' }, { kind: 'grpc', hubAddress: '127.0.0.1:4001', trust: { kind: 'insecure' } }, 'flt_boot_dev');
    const printed = spawnSync('sh', ['-c', `helm() { for a; do printf '%s\\0' "$a"; done; }\n${command}`], { encoding: 'utf8' });
    const sets = printed.stdout.split('\0').filter(Boolean).slice(3).filter((a) => !['--namespace', 'flotilla-system', '--create-namespace'].includes(a));
    const manifests = render('flotilla-agent', [], sets, 'flotilla-agent');
    expect(loadAgentConfig(resolveEnv(containerOf(manifests), 'flt_boot_dev'))).toMatchObject({ ok: true, config: { transport: { tls: { kind: 'insecure' } } } });
    expect(byKind(manifests, 'ConfigMap')).toEqual([]);
  });
});

describe('flotilla-hub', () => {
  it('listens on all interfaces, takes DATABASE_URL from a Secret and never starts the demo fleet', () => {
    const manifests = render('flotilla-hub', ['hub-minimal']);
    const container = containerOf(manifests);
    const env = resolveEnv(container, 'postgresql://from-secret');
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '4000',
      FLOTILLA_GRPC_HOST: '0.0.0.0',
      FLOTILLA_GRPC_PORT: '4001',
      DATABASE_URL: 'postgresql://from-secret',
      FLOTILLA_DEMO: 'false',
      FLOTILLA_LOG_LEVEL: 'info',
    });
    expect(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-flotilla-hub-database', key: 'DATABASE_URL' });
    expect(JSON.stringify(deploymentOf(manifests))).not.toContain('secret@postgres');
    expect(container.command).toEqual(['node', 'hub/dist/main.js']);
    const [service] = byKind(manifests, 'Service');
    expect((service?.['spec'] as { ports: { name: string; port: number }[] }).ports.map((p) => [p.name, p.port])).toEqual([
      ['graphql', 4000],
      ['agent-link', 4001],
    ]);
    expect((deploymentOf(manifests)['spec'] as { replicas?: number }).replicas).toBe(2);
  });

  it('hands the replica count to the HPA and routes the Ingress to GraphQL (hub-ha)', () => {
    const manifests = render('flotilla-hub', ['hub-ha']);
    expect((deploymentOf(manifests)['spec'] as { replicas?: number }).replicas).toBeUndefined();
    const [hpa] = byKind(manifests, 'HorizontalPodAutoscaler');
    expect(hpa?.['spec']).toMatchObject({ minReplicas: 3, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'flotilla-flotilla-hub' } });
    const [ingress] = byKind(manifests, 'Ingress');
    expect(JSON.stringify(ingress?.['spec'])).toContain('"port":{"name":"graphql"}');
    expect(byKind(manifests, 'Secret')).toEqual([]);
    expect(envOf(containerOf(manifests), 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-db', key: 'url' });
    const [monitor] = byKind(manifests, 'ServiceMonitor');
    expect(monitor?.['spec']).toMatchObject({ endpoints: [{ port: 'graphql', path: '/metrics' }] });
  });

  it('connects every replica to NATS with the password from a Secret, as the hub loader reads it (hub-nats)', () => {
    const manifests = render('flotilla-hub', ['hub-nats']);
    expect((deploymentOf(manifests)['spec'] as { replicas?: number }).replicas).toBe(3);
    const container = containerOf(manifests);
    expect(envOf(container, 'FLOTILLA_NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-hub-nats', key: 'password' });
    const config = loadHubConfig(resolveEnv(container, { 'flotilla-db': 'postgresql://from-secret', 'flotilla-hub-nats': 'nats-secret' }));
    expect(config.nats).toEqual({
      servers: ['nats://nats.nats.svc:4222'],
      auth: { kind: 'password', user: 'flotilla-hub', password: 'nats-secret' },
      kvBucket: 'fleet-desired',
      reportsStream: 'FLEET_REPORTS',
    });
    // Each pod names itself: replica ids differ between the pods of one Deployment.
    expect(envOf(container, 'FLOTILLA_REPLICA_ID')?.valueFrom?.fieldRef).toEqual({ fieldPath: 'metadata.name' });
    expect(config.replicaId).toBe(POD_NAME);
  });

  it.each([
    { what: 'without nats.url leaves NATS off', args: [], nats: undefined },
    {
      what: 'with a .creds Secret mounts it and points FLOTILLA_NATS_CREDS at it',
      args: ['--set', 'nats.url=tls://nats.example.com:4222', '--set', 'nats.credsSecret=hub-creds'],
      nats: { servers: ['tls://nats.example.com:4222'], auth: { kind: 'creds', file: '/etc/flotilla/nats/user.creds' }, kvBucket: 'flotilla-desired', reportsStream: 'FLOTILLA_REPORTS' },
    },
  ])('a hub $what', ({ args, nats }) => {
    const manifests = render('flotilla-hub', ['hub-minimal'], args);
    const secrets = { 'flotilla-flotilla-hub-database': 'postgresql://from-secret', 'flotilla-flotilla-hub-ca-encryption-key': CA_KEY };
    expect(loadHubConfig(resolveEnv(containerOf(manifests), secrets)).nats).toEqual(nats);
    const volume = podSpecOf(deploymentOf(manifests)).volumes?.find((v) => v['name'] === 'nats-creds');
    expect(volume?.['secret']).toEqual(nats === undefined ? undefined : { secretName: 'hub-creds', items: [{ key: 'user.creds', path: 'user.creds' }], defaultMode: 0o440 });
  });
});

describe('values the charts refuse', () => {
  it.each<{ chart: string; values: string; refusedBy: 'schema' | 'template'; message: RegExp }>([
    { chart: 'flotilla-agent', values: 'invalid-agent-missing-cluster-name', refusedBy: 'schema', message: /at '\/cluster': missing property 'name'/ },
    { chart: 'flotilla-agent', values: 'invalid-agent-bad-transport', refusedBy: 'schema', message: /at '\/transport': value must be one of 'grpc', 'nats'/ },
    { chart: 'flotilla-agent', values: 'invalid-agent-bad-cluster-name', refusedBy: 'schema', message: /at '\/cluster\/name': 'EU_West_1' does not match pattern/ },
    { chart: 'flotilla-agent', values: 'invalid-agent-unknown-key', refusedBy: 'schema', message: /additional properties 'replicaCount' not allowed/ },
    { chart: 'flotilla-agent', values: 'invalid-agent-nats-without-url', refusedBy: 'schema', message: /at '\/nats'?: missing property 'url'|at '\/nats\/url'/ },
    { chart: 'flotilla-hub', values: 'invalid-hub-bad-database-url', refusedBy: 'schema', message: /at '\/database\/url'/ },
  ])('$chart refuses $values, naming the field', ({ chart, values, refusedBy, message }) => {
    // `helm lint` treats a template's `fail` as a soft INFO, so it only sees the schema's refusals;
    // `helm template` (like `helm install`) sees both.
    for (const command of refusedBy === 'schema' ? ['template', 'lint'] : ['template']) {
      const run = helm(command === 'template' ? ['template', 'flotilla', join(CHARTS, chart), ...valuesArgs([values])] : ['lint', join(CHARTS, chart), ...valuesArgs([values])]);
      expect(run.status, `helm ${command}`).not.toBe(0);
      expect(run.stderr + run.stdout, `helm ${command}`).toMatch(message);
    }
  });

  it.each([
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=hub:4001', '--set', 'hub.caSecret=ca'], message: /bootstrapToken.value or bootstrapToken.existingSecret is required/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'bootstrapToken.value=t'], message: /at '\/hub': missing property 'address'/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=https://hub:4001', '--set', 'bootstrapToken.value=t'], message: /at '\/hub\/address'/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'transport=nats', '--set', 'nats.url=nats://n:4222', '--set', 'bootstrapToken.value=t'], message: /bootstrapToken is not used with transport: nats without nats.enrollmentJwt/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'transport=nats', '--set', 'nats.url=nats://n:4222', '--set', 'nats.user=u'], message: /nats.existingSecret is required with nats.user/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'transport=nats', '--set', 'nats.url=nats://n:4222', '--set', 'nats.user=u', '--set', 'nats.existingSecret=s', '--set', 'nats.credsSecret=c'], message: /set either nats.credsSecret or nats.user/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'transport=nats', '--set', 'nats.url=nats://user:pw@n:4222'], message: /at '\/nats\/url'/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=hub:4001', '--set', 'bootstrapToken.value=t', '--set', 'cache.store=memory'], message: /at '\/cache\/store'/ },
    { chart: 'flotilla-agent', args: ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=hub:4001', '--set', 'bootstrapToken.value=t', '--set', 'logLevel=trace'], message: /at '\/logLevel'/ },
    { chart: 'flotilla-hub', args: [], message: /database.url or database.existingSecret is required/ },
    { chart: 'flotilla-hub', args: ['--set', 'database.url=postgres://db/f', '--set', 'nats.credsSecret=c'], message: /nats.url is required with/ },
    { chart: 'flotilla-hub', args: ['--set', 'database.url=postgres://db/f', '--set', 'nats.url=nats://n:4222', '--set', 'nats.user=hub'], message: /nats.existingSecret is required with nats.user/ },
  ])('$chart refuses $args', ({ chart, args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, chart), ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
