import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { FleetDocument } from '../gen/graphql';
import type { FleetCluster } from './group-clusters';

/** Clusters per request, and Apps per cluster: 200 × 200 stays under the hub's default query cost. */
const PAGE = 200;
const APPS_PER_CLUSTER = 200;
/** At most this many pages (10 000 clusters) per load: the loop always ends. */
const MAX_PAGES = 50;
const REFRESH_MS = 5_000;

export interface Fleet {
  readonly clusters: FleetCluster[] | undefined;
  readonly error: CombinedError | undefined;
  /** True when the fleet has more clusters than one load reads. */
  readonly truncated: boolean;
}

/** Every cluster, read page by page from the hub and read again every few seconds while shown. */
export function useFleet(): Fleet {
  const client = useClient();
  const [fleet, setFleet] = useState<Fleet>({ clusters: undefined, error: undefined, truncated: false });
  const loading = useRef(false);

  const load = useCallback(async () => {
    if (loading.current) return;
    loading.current = true;
    try {
      const clusters: FleetCluster[] = [];
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await client.query(FleetDocument, { first: PAGE, offset: page * PAGE, appsPerCluster: APPS_PER_CLUSTER }, { requestPolicy: 'network-only' }).toPromise();
        if (result.error || !result.data) {
          setFleet((current) => ({ ...current, error: result.error }));
          return;
        }
        clusters.push(...result.data.clusters);
        if (result.data.clusters.length < PAGE) {
          setFleet({ clusters, error: undefined, truncated: false });
          return;
        }
      }
      setFleet({ clusters, error: undefined, truncated: true });
    } finally {
      loading.current = false;
    }
  }, [client]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);
  return fleet;
}
