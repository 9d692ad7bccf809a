/**
 * The clusters one list answer holds (a page of `clusterPage`, the result of `clusters`), so that a
 * field asked of each of them is read for all of them at once: `apps` of a 100-cluster page is one
 * query instead of 100 round trips. Scoped to that answer (no cache between requests); each distinct
 * set of arguments is read once and shared by the clusters that ask with it.
 */
export class ClusterBatch {
  private readonly loads = new Map<string, Promise<ReadonlyMap<string, readonly unknown[]>>>();

  constructor(readonly clusterIds: readonly string[]) {}

  /**
   * What `load` returns for every cluster of the batch (keyed as `load` keys it), for the arguments named
   * by `key`; `load` runs once per key, whichever cluster asks first.
   */
  forAll<T>(key: string, load: (clusterIds: readonly string[]) => Promise<ReadonlyMap<string, readonly T[]>>): Promise<ReadonlyMap<string, readonly T[]>> {
    let loading = this.loads.get(key);
    if (!loading) {
      loading = load(this.clusterIds);
      this.loads.set(key, loading);
    }
    return loading as Promise<ReadonlyMap<string, readonly T[]>>;
  }
}
