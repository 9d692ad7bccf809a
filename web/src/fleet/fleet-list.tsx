import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef } from 'react';
import { Status } from '../components/status';
import { Time } from '../components/time';
import { appCounts, labelWords, type FleetCluster } from './cluster-counts';
import { buildRows, chunkByGroup, groupName, pagesFor, type GroupCount } from './fleet-rows';
import './fleet.css';

/** Heights in pixels the list is laid out with before each shown row is measured (see fleet.css). */
const HEADER_PX = 44;
const ROW_PX = 37;

const COLUMNS = ['Cluster', 'Agent', 'Last seen', 'Kubernetes', 'Apps healthy', 'Apps synced', 'Labels'];

export interface FleetListProps {
  /** The filter and grouping the counts are for: a new one scrolls back to the top. */
  readonly listKey: string;
  readonly groupBy: string;
  readonly groups: readonly GroupCount[];
  readonly total: number;
  readonly pageSize: number;
  readonly clusterAt: (offset: number) => FleetCluster | undefined;
  /** Called with the pages of the rows on screen (and a few around them). */
  readonly onShow: (pages: number[]) => void;
  readonly now: number;
}

/**
 * Every matching cluster in one virtual list: group headings and cluster rows, only those near the
 * viewport in the DOM. Each group's shown rows form a region named after the group, holding a table
 * whose aria-rowcount is the group's size, so a screen reader still hears where a row is.
 */
export function FleetList({ listKey, groupBy, groups: counts, total, pageSize, clusterAt, onShow, now }: FleetListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const { groups, rows } = useMemo(() => buildRows(counts, total), [counts, total]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => (rows[index]?.kind === 'header' ? HEADER_PX : ROW_PX),
    overscan: 10,
  });
  // Rows measured a pixel off their estimate must not move the scroll position: that cancels a
  // scroll under way (End, Page Down, a dragged scrollbar) part of the way.
  virtualizer.shouldAdjustScrollPositionOnItemSizeChange = () => false;

  useEffect(() => {
    virtualizer.scrollToOffset(0);
  }, [listKey, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    onShow(pagesFor(rows, first, last, pageSize));
  }, [rows, first, last, pageSize, onShow]);

  const chunks = chunkByGroup(items, rows);
  return (
    <>
      <div className="fleet-columns" aria-hidden="true">
        {COLUMNS.map((column) => (
          <span key={column}>{column}</span>
        ))}
      </div>
      {/* Focusable so that the list scrolls from the keyboard (arrows, Page Up/Down, Home, End). */}
      <div ref={scroller} className="fleet-scroller" tabIndex={0} role="region" aria-label={`Clusters, ${total} in ${groups.length} groups`}>
        <div className="fleet-canvas" style={{ height: virtualizer.getTotalSize() }}>
          {chunks.map((chunk) => {
            const group = groups[chunk.group]!;
            const name = groupName(groupBy, group.value);
            const clusters = chunk.rows.flatMap(({ index, row }) => (row.kind === 'cluster' ? [{ index, ...row }] : []));
            return (
              <section key={`${chunk.group}:${chunk.rows[0]!.index}`} className="fleet-group" aria-label={name.label} style={{ transform: `translateY(${chunk.start}px)` }}>
                {chunk.rows[0]!.row.kind === 'header' && (
                  <h2 className="fleet-heading" data-index={chunk.rows[0]!.index} ref={virtualizer.measureElement}>
                    {name.heading} <span className="muted">({group.count})</span>
                  </h2>
                )}
                {clusters.length > 0 && (
                  <table className="table fleet-table" aria-rowcount={group.count + 1}>
                    <colgroup>
                      {COLUMNS.map((column) => (
                        <col key={column} className={`fleet-col-${column.toLowerCase().replace(/\s+/g, '-')}`} />
                      ))}
                    </colgroup>
                    <thead className="fleet-offscreen">
                      <tr aria-rowindex={1}>
                        {COLUMNS.map((column) => (
                          <th key={column} scope="col">
                            {column}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {clusters.map((row) => (
                        <ClusterRow key={row.offset} index={row.index} measure={virtualizer.measureElement} cluster={clusterAt(row.offset)} rowIndex={row.position + 2} now={now} />
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            );
          })}
        </div>
      </div>
    </>
  );
}

interface ClusterRowProps {
  /** The row's index in the virtual list, and the callback that measures it there. */
  readonly index: number;
  readonly measure: (element: Element | null) => void;
  readonly cluster: FleetCluster | undefined;
  /** Its aria-rowindex in its group's table (the column headers are row 1). */
  readonly rowIndex: number;
  readonly now: number;
}

function ClusterRow({ index, measure, cluster, rowIndex, now }: ClusterRowProps) {
  if (!cluster) {
    return (
      <tr className="fleet-row" data-index={index} ref={measure} aria-rowindex={rowIndex} aria-busy="true">
        <td colSpan={COLUMNS.length} className="muted">
          Loading…
        </td>
      </tr>
    );
  }
  const counts = appCounts(cluster);
  const labels = labelWords(cluster.labels).join(' ');
  return (
    <tr className="fleet-row" data-index={index} ref={measure} aria-rowindex={rowIndex}>
      <th scope="row">{cluster.name}</th>
      <td>{cluster.connected ? <Status tone="good" text="Connected" /> : <Status tone="bad" text="Offline" />}</td>
      <td>
        <Time iso={cluster.lastSeen} now={now} />
      </td>
      <td>{cluster.kubernetesVersion ?? 'unknown'}</td>
      <td>
        <Status tone={counts.healthy === counts.total ? 'good' : 'warn'} text={`${counts.healthy}/${counts.total} healthy`} />
      </td>
      <td>
        <Status tone={counts.synced === counts.total ? 'good' : 'warn'} text={`${counts.synced}/${counts.total} synced`} />
        {counts.drifted > 0 && <Status tone="warn" text={` ${counts.drifted} drifted`} />}
      </td>
      <td className="labels" title={labels}>
        {labels}
      </td>
    </tr>
  );
}
