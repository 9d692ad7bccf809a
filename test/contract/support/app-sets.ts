/** AppSets of the contract suite: every one targets the clusters labelled `tier: contract`, in one wave. */

const header = (name: string) => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - clusters: { selector: { matchLabels: { tier: contract } } }
  template:
    namespace: contract
    manifests:
`;

const strategy = `  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

/** One small ConfigMap named after the AppSet, holding `value`. */
export function smallAppSet(name: string, value: string): string {
  return `${header(name)}      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: { value: "${value}" }
${strategy}`;
}

/**
 * `copies` ConfigMaps of `bytes` characters each. The document stays small: the padding is written
 * once and repeated with YAML aliases, so the rendered App is `copies` times larger than the text.
 */
export function bigAppSet(name: string, copies: number, bytes: number): string {
  const manifests = Array.from({ length: copies }, (_, i) => `      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name}-${i} }
        data: { pad: ${i === 0 ? `&pad "${'x'.repeat(bytes)}"` : '*pad'} }
`).join('');
  return `${header(name)}${manifests}${strategy}`;
}
