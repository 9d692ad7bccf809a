// AppSet documents shared by the hub's integration tests (and, for the Git probe, the e2e suite):
// plain functions of their inputs, so that hub and e2e tests can both import them.

/**
 * An AppSet over the clusters whose labels include `matchLabels`: one ConfigMap `<name>` in namespace
 * `<name>` whose `data` is the YAML flow map `data`; `strategy` is YAML indented under `spec.strategy`
 * (none when empty).
 */
export const configMapAppSetYaml = (name: string, matchLabels: Record<string, string>, { data, strategy = '' }: { data: string; strategy?: string }) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: { selector: { matchLabels: { ${Object.entries(matchLabels)
  .map(([key, value]) => `${key}: ${value}`)
  .join(', ')} } } }
  template:
    namespace: ${name}
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: ${data}
${strategy ? `  strategy:\n${strategy}` : ''}
`;

/** An AppSet whose git generator reads `repoURL` at `main`: one ConfigMap per `apps/*.yaml`, named by its `name`. */
export const gitProbeAppSetYaml = (repoURL: string, name = 'probe') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - git:
        repoURL: ${JSON.stringify(repoURL)}
        revision: main
        files: [{ path: "apps/*.yaml" }]
  template:
    name: "{{ name }}"
    namespace: default
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: "{{ name }}" }
        data: { from: "{{ name }}" }
`;

/**
 * An AppSet `name` whose list generator yields `elements` (YAML flow maps, e.g. `{ cluster: eu-1 }`),
 * with `template`: YAML indented under `spec.template`, ending with a newline.
 */
export const listAppSetYaml = (name: string, elements: readonly string[], template: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - list:
        elements:
${elements.map((element) => `          - ${element}`).join('\n')}
  template:
${template}`;
