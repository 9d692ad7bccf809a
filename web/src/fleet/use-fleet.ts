import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { FleetPageDocument, FleetTotalsDocument, type ClusterFilter } from '../gen/graphql';
import type { FleetCluster } from './cluster-counts';
import type { GroupCount } from './fleet-rows';

/** Clusters per request; 100 clusters × 200 Apps stays well under the hub's default query cost. */
export const PAGE_SIZE = 100;
const APPS_PER_CLUSTER = 200;
const REFRESH_MS = 5_000;

export interface FleetPages {
  /** The filter and grouping these counts and pages are for (a JSON key); undefined before the first answer. */
  readonly key: string | undefined;
  /** Clusters matching the filter, how many are connected, and per group. */
  readonly total: number;
  readonly connected: number;
  readonly groups: readonly GroupCount[];
  /** Loaded pages by page number. */
  readonly pages: ReadonlyMap<number, FleetCluster[]>;
  readonly error: CombinedError | undefined;
}

export interface Fleet extends FleetPages {
  /** Fleet-wide counts, whatever the filter. */
  readonly fleetTotal: number | undefined;
  readonly fleetConnected: number;
  /** Asks for the pages the list shows; pages not loaded yet are fetched, and these are the ones refreshed. */
  readonly show: (pages: readonly number[]) => void;
}

const EMPTY: FleetPages = { key: undefined, total: 0, connected: 0, groups: [], pages: new Map(), error: undefined };

/**
 * The fleet, filtered and paged on the hub: only the pages the list shows are read, and only those
 * are read again every few seconds (with the counts). A new filter keeps the last answer on screen
 * until the first page for it arrives.
 */
export function useFleet(filter: ClusterFilter | null, groupBy: string): Fleet {
  const client = useClient();
  const key = JSON.stringify({ filter, groupBy });
  const [state, setState] = useState<FleetPages>(EMPTY);
  const [totals, setTotals] = useState<{ total: number | undefined; connected: number }>({ total: undefined, connected: 0 });
  const current = useRef({ key, filter, groupBy });
  current.current = { key, filter, groupBy };
  const shown = useRef<readonly number[]>([0]);
  const inFlight = useRef(new Set<string>());

  const load = useCallback(
    async (pages: readonly number[], refresh: boolean) => {
      const { key: forKey, filter: f, groupBy: g } = current.current;
      await Promise.all(
        pages.map(async (page) => {
          const flight = `${forKey}#${page}`;
          if (inFlight.current.has(flight)) return;
          inFlight.current.add(flight);
          try {
            const result = await client
              .query(FleetPageDocument, { filter: f, groupBy: g || null, first: PAGE_SIZE, offset: page * PAGE_SIZE, appsPerCluster: APPS_PER_CLUSTER }, { requestPolicy: 'network-only' })
              .toPromise();
            if (current.current.key !== forKey) return;
            setState((prev) => {
              if (result.error || !result.data) return { ...prev, error: result.error };
              const { totalCount, connectedCount, groups, nodes } = result.data.clusterPage;
              const same = prev.key === forKey;
              // A refresh keeps only the pages shown: pages read under older counts could be misplaced.
              const kept = same ? [...prev.pages].filter(([p]) => !refresh || shown.current.includes(p)) : [];
              return { key: forKey, total: totalCount, connected: connectedCount, groups, pages: new Map([...kept, [page, nodes]]), error: undefined };
            });
          } finally {
            inFlight.current.delete(flight);
          }
        }),
      );
    },
    [client],
  );

  const loadTotals = useCallback(async () => {
    const result = await client.query(FleetTotalsDocument, {}, { requestPolicy: 'network-only' }).toPromise();
    if (result.data) setTotals({ total: result.data.clusterPage.totalCount, connected: result.data.clusterPage.connectedCount });
  }, [client]);

  // A new filter or grouping: the list starts again from the top.
  useEffect(() => {
    shown.current = [0];
    void load([0], false);
  }, [key, load]);

  useEffect(() => {
    void loadTotals();
    const timer = setInterval(() => {
      void loadTotals();
      void load(shown.current.length > 0 ? shown.current : [0], true);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, loadTotals]);

  const show = useCallback(
    (pages: readonly number[]) => {
      shown.current = pages;
      const missing = pages.filter((page) => !(state.key === current.current.key && state.pages.has(page)));
      if (missing.length > 0) void load(missing, false);
    },
    [load, state],
  );

  return { ...state, fleetTotal: totals.total, fleetConnected: totals.connected, show };
}
