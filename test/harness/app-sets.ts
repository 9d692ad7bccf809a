/** What {@link webAppSet} varies between tests. */
export interface WebAppSetOptions {
  /** The ConfigMap's `data.value`: change it to make a new revision. */
  readonly value: string;
  /** The `strategy.byLabel` fields after `label: region`, as YAML flow-map entries. */
  readonly byLabel: string;
  /** Extra `data` entries, as YAML flow-map entries (may use parameters). */
  readonly extraData?: string;
}

/**
 * The AppSet the e2e suites roll out: `web`, one ConfigMap on every registered cluster, waves by the
 * `region` label.
 */
export function webAppSet({ value, byLabel, extraData }: WebAppSetOptions): string {
  return `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { value: "${value}"${extraData ? `, ${extraData}` : ''} }
  strategy:
    byLabel: { label: region, ${byLabel} }
`;
}
