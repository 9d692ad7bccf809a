/** A registered cluster as generators see it: resolved by a service, passed in as plain data. */
export interface ClusterSnapshot {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Free-form values attached to the cluster by operators. */
  readonly values: Readonly<Record<string, string>>;
}

/**
 * One set of parameters for one target cluster. `params.cluster` is always the target cluster as an
 * object `{ name, labels, values }`, whichever generator produced the set.
 */
export interface ParamSet {
  readonly clusterName: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Where the set came from, as a path into the AppSet (`spec.generators[1].list.elements[0]`). */
  readonly source: string;
}

/** The `cluster` parameter object of a ParamSet. */
export function clusterParam(cluster: ClusterSnapshot): Record<string, unknown> {
  return { name: cluster.name, labels: { ...cluster.labels }, values: { ...cluster.values } };
}
