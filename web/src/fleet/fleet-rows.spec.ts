import { describe, expect, it } from 'vitest';
import { buildRows, chunkByGroup, clusterFilter, groupName, pagesFor, type FleetRow } from './fleet-rows';

const describeRows = (rows: FleetRow[]) => rows.map((row) => (row.kind === 'header' ? `h${row.group}` : `${row.group}:${row.offset}/${row.position}`));

describe('buildRows', () => {
  it.each([
    {
      name: 'a header per group, then its clusters, offsets running on across groups',
      groups: [{ value: 'eu', count: 2 }, { value: null, count: 1 }],
      total: 3,
      rows: ['h0', '0:0/0', '0:1/1', 'h1', '1:2/0'],
    },
    { name: 'without groups the whole match is one group', groups: [], total: 2, rows: ['h0', '0:0/0', '0:1/1'] },
    { name: 'nothing matched: no rows at all', groups: [], total: 0, rows: [] },
  ])('$name', ({ groups, total, rows }) => {
    expect(describeRows(buildRows(groups, total).rows)).toEqual(rows);
  });

  it('holds 1 500 clusters in 4 groups as 1 504 rows', () => {
    const groups = [400, 400, 400, 300].map((count, i) => ({ value: `r${i}`, count }));
    const { rows } = buildRows(groups, 1500);
    expect(rows).toHaveLength(1504);
    expect(rows[rows.length - 1]).toEqual({ kind: 'cluster', group: 3, offset: 1499, position: 299 });
  });
});

describe('pagesFor', () => {
  const { rows } = buildRows([{ value: 'a', count: 150 }, { value: 'b', count: 150 }], 300);
  it.each([
    { name: 'the top of the list needs the first page', start: 0, end: 20, pages: [0] },
    { name: 'rows across a page boundary need both pages', start: 95, end: 110, pages: [0, 1] },
    { name: 'the end of the list needs the last page', start: 290, end: 301, pages: [2] },
    { name: 'a header alone needs no page', start: 0, end: 0, pages: [] },
    { name: 'a range past the end is clamped', start: 300, end: 900, pages: [2] },
  ])('$name', ({ start, end, pages }) => {
    expect(pagesFor(rows, start, end, 100)).toEqual(pages);
  });
});

describe('chunkByGroup', () => {
  it('splits the shown rows into runs by group, each starting where its first row starts', () => {
    const { rows } = buildRows([{ value: 'a', count: 2 }, { value: 'b', count: 2 }], 4);
    const shown = [1, 2, 3, 4].map((index) => ({ index, start: index * 10 }));
    expect(chunkByGroup(shown, rows).map((c) => ({ group: c.group, start: c.start, indexes: c.rows.map((r) => r.index) }))).toEqual([
      { group: 0, start: 10, indexes: [1, 2] },
      { group: 1, start: 30, indexes: [3, 4] },
    ]);
  });
});

describe('groupName', () => {
  it.each([
    { groupBy: 'region', value: 'eu', name: { heading: 'region=eu', label: 'region=eu' } },
    { groupBy: 'region', value: null, name: { heading: 'No region label', label: 'no region label' } },
    { groupBy: '', value: null, name: { heading: 'All clusters', label: 'All clusters' } },
  ])('grouped by "$groupBy", value $value is called $name.heading', ({ groupBy, value, name }) => {
    expect(groupName(groupBy, value)).toEqual(name);
  });
});

describe('clusterFilter', () => {
  it.each([
    { name: 'no control set filters nothing', controls: { search: ' ', project: '', selector: null, state: 'all' as const }, filter: null },
    { name: 'words are trimmed', controls: { search: ' eu ', project: '', selector: null, state: 'all' as const }, filter: { search: 'eu' } },
    { name: 'offline asks for clusters not connected', controls: { search: '', project: 'team-a', selector: null, state: 'offline' as const }, filter: { project: 'team-a', connected: false } },
    { name: 'unhealthy asks for an App not healthy', controls: { search: '', project: '', selector: { matchLabels: { env: 'prod' } }, state: 'unhealthy' as const }, filter: { labels: { matchLabels: { env: 'prod' } }, apps: 'NOT_HEALTHY' } },
    { name: 'drifted asks for a drifted App', controls: { search: '', project: '', selector: null, state: 'drifted' as const }, filter: { apps: 'DRIFTED' } },
  ])('$name', ({ controls, filter }) => {
    expect(clusterFilter(controls)).toEqual(filter);
  });
});
