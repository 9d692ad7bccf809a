/**
 * The `guard` chart of the large-chart specification: CRDs (one over 1 MiB), admission webhooks, an
 * HPA, a PDB, pre- and post-install hook Jobs, a test hook, and a ConfigMap full of `{{ }}` text meant
 * for other template engines (helm-escaped, raw, Prometheus rules and a Grafana dashboard read from
 * files). Plain text only: the specification writes, packages and serves it.
 */

export const RELEASE = 'guard';
export const NAMESPACE = 'guard-system';
const CHART_VERSION = '2.4.0';
export const GROUP = 'large.flotilla.test';
/** Properties of the large CRD's schema, each with a long description: the CRD alone is over 1 MiB. */
export const LARGE_SCHEMA_PROPERTIES = 1500;

const ALERT_RULES = [
  'groups:',
  '  - name: guard.rules',
  '    rules:',
  '      - alert: GuardDown',
  '        expr: up{job="guard"} == 0',
  '        for: 5m',
  '        annotations:',
  '          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"',
  '          description: "{{ $value | humanize }}% ≥ threshold; see {{ .ExternalURL }}/alerts"',
  '          runbook: |',
  '            {{- range $i, $e := .Alerts }}\t{{ $e.Labels.pod }}{{ end }}   ',
  '',
].join('\n');

const DASHBOARD = `${JSON.stringify(
  {
    title: 'Guard',
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
    panels: [{ type: 'timeseries', targets: [{ expr: 'sum by (pod) (rate(guard_requests_total[5m]))', legendFormat: '{{pod}} – {{ namespace }}' }], datasource: '${datasource}' }],
  },
  null,
  2,
)}\n`;

/** The chart's files, relative to its directory. */
export function chartFiles(): Record<string, string> {
  const hook = (events: string, weight: string) => `  annotations:\n    helm.sh/hook: ${events}\n    helm.sh/hook-weight: "${weight}"\n    helm.sh/hook-delete-policy: before-hook-creation\n`;
  const job = (name: string, events: string, args: string) =>
    [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata:',
      `  name: {{ .Release.Name }}-${name}`,
      hook(events, '-5').trimEnd(),
      'spec:',
      '  backoffLimit: 0',
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      `      containers: [{ name: ${name}, image: "{{ .Values.image }}", args: [${args}] }]`,
      '',
    ].join('\n');
  const webhook = (kind: string, suffix: string, failurePolicy: string) =>
    [
      'apiVersion: admissionregistration.k8s.io/v1',
      `kind: ${kind}`,
      'metadata:',
      `  name: {{ .Release.Name }}-${suffix}`,
      'webhooks:',
      `  - name: ${suffix}.${GROUP}`,
      '    clientConfig:',
      '      service: { namespace: "{{ .Release.Namespace }}", name: "{{ .Release.Name }}-webhook", path: /' + suffix + ', port: 443 }',
      `    rules: [{ apiGroups: ["${GROUP}"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["gadgets"] }]`,
      '    admissionReviewVersions: ["v1"]',
      '    sideEffects: None',
      `    failurePolicy: ${failurePolicy}`,
      '',
    ].join('\n');
  const crd = (plural: string, kind: string, properties: Record<string, unknown>) =>
    JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${GROUP}` },
      spec: {
        group: GROUP,
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties } } } } }],
      },
    });
  const largeProperties = Object.fromEntries(
    Array.from({ length: LARGE_SCHEMA_PROPERTIES }, (_, i) => [`setting${String(i).padStart(4, '0')}`, { type: 'string', description: `Setting ${i}: ${'a long description as generated CRDs carry. '.repeat(18)}` }]),
  );
  return {
    'Chart.yaml': `apiVersion: v2\nname: guard\nversion: ${CHART_VERSION}\nappVersion: "${CHART_VERSION}"\ndescription: An admission controller with CRDs, hooks and monitoring files\n`,
    'values.yaml': 'image: registry.example.com/guard:2.4.0\nreplicas: 2\nowner: nobody\nx: "not for the ConfigMap"\n',
    'crds/gadgets.json': crd('gadgets', 'Gadget', { size: { type: 'integer' }, owner: { type: 'string' } }),
    'crds/policies.json': crd('policies', 'Policy', largeProperties),
    'files/alert.rules': ALERT_RULES,
    'files/dashboard.json': DASHBOARD,
    'templates/configmap.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{ .Release.Name }}-monitoring',
      'data:',
      '  owner: {{ .Values.owner | quote }}',
      `  escaped: '{{ "{{" }} .Values.x {{ "}}" }}'`,
      "  raw: '{{`{{ $labels.instance }} is down`}}'",
      '  alert.rules: {{ .Files.Get "files/alert.rules" | quote }}',
      '  dashboard.json: {{ .Files.Get "files/dashboard.json" | quote }}',
      '',
    ].join('\n'),
    'templates/deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: {{ .Release.Name }}-webhook',
      'spec:',
      '  replicas: {{ .Values.replicas }}',
      '  selector: { matchLabels: { app: "{{ .Release.Name }}-webhook" } }',
      '  template:',
      '    metadata: { labels: { app: "{{ .Release.Name }}-webhook" } }',
      '    spec:',
      '      containers: [{ name: webhook, image: "{{ .Values.image }}", ports: [{ containerPort: 8443 }] }]',
      '',
    ].join('\n'),
    'templates/service.yaml': [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: {{ .Release.Name }}-webhook',
      'spec:',
      '  selector: { app: "{{ .Release.Name }}-webhook" }',
      '  ports: [{ name: https, port: 443, targetPort: 8443 }]',
      '',
    ].join('\n'),
    'templates/webhooks.yaml': `${webhook('MutatingWebhookConfiguration', 'mutate', 'Ignore')}---\n${webhook('ValidatingWebhookConfiguration', 'validate', 'Fail')}`,
    'templates/hpa.yaml': [
      'apiVersion: autoscaling/v2',
      'kind: HorizontalPodAutoscaler',
      'metadata:',
      '  name: {{ .Release.Name }}-webhook',
      'spec:',
      '  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: "{{ .Release.Name }}-webhook" }',
      '  minReplicas: {{ .Values.replicas }}',
      '  maxReplicas: 6',
      '  metrics: [{ type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 75 } } }]',
      '',
    ].join('\n'),
    'templates/pdb.yaml': [
      'apiVersion: policy/v1',
      'kind: PodDisruptionBudget',
      'metadata:',
      '  name: {{ .Release.Name }}-webhook',
      'spec:',
      '  minAvailable: 1',
      '  selector: { matchLabels: { app: "{{ .Release.Name }}-webhook" } }',
      '',
    ].join('\n'),
    'templates/gadget.yaml': `apiVersion: ${GROUP}/v1\nkind: Gadget\nmetadata:\n  name: {{ .Release.Name }}-default\nspec:\n  size: 3\n  owner: {{ .Values.owner | quote }}\n`,
    'templates/prepare-job.yaml': job('prepare', 'pre-install,pre-upgrade', '"prepare"'),
    'templates/announce-job.yaml': job('announce', 'post-install,post-upgrade', '"announce"'),
    'templates/tests/test-webhook.yaml': [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: {{ .Release.Name }}-test',
      '  annotations: { helm.sh/hook: test }',
      'spec:',
      '  restartPolicy: Never',
      '  containers: [{ name: test, image: "{{ .Values.image }}", args: ["test"] }]',
      '',
    ].join('\n'),
  };
}
