import { useCallback, useEffect, useMemo, useState } from 'react';
import { Input, Label, SearchField, TextField } from 'react-aria-components';
import { useQuery } from 'urql';
import { QueryState } from '../components/query-state';
import { useNow } from '../components/use-interval';
import { FleetProjectsDocument } from '../gen/graphql';
import { FleetList } from './fleet-list';
import { clusterFilter, type ClusterState } from './fleet-rows';
import { parseSelector } from './label-selector';
import { PAGE_SIZE, useFleet } from './use-fleet';

/** How long typing pauses before the hub is asked again. */
const TYPING_MS = 300;

/** Every cluster, grouped by a label (region by default), with its connection and its Apps at a glance; filtered and paged on the hub. */
export function FleetView() {
  const now = useNow(5_000);
  const [search, setSearch] = useState('');
  const [selectorText, setSelectorText] = useState('');
  const [project, setProject] = useState('');
  const [groupBy, setGroupBy] = useState('region');
  const [state, setState] = useState<ClusterState>('all');
  const typedSearch = useSettled(search);
  const typedSelector = useSettled(selectorText);
  const typedGroupBy = useSettled(groupBy.trim());
  const parsed = useMemo(() => parseSelector(typedSelector), [typedSelector]);
  const selector = parsed.ok ? parsed.selector : null;
  const filter = useMemo(() => clusterFilter({ search: typedSearch, project, selector, state }), [typedSearch, project, selector, state]);
  const fleet = useFleet(filter, typedGroupBy);
  const [projects] = useQuery({ query: FleetProjectsDocument });
  const clusterAt = useCallback((offset: number) => fleet.pages.get(Math.floor(offset / PAGE_SIZE))?.[offset % PAGE_SIZE], [fleet.pages]);
  const shownKey = fleet.key;
  const shownGroupBy = shownKey === undefined ? typedGroupBy : (JSON.parse(shownKey) as { groupBy: string }).groupBy;

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      {fleet.fleetTotal !== undefined && (
        <p>
          {fleet.fleetTotal} clusters, {fleet.fleetConnected} connected, {fleet.fleetTotal - fleet.fleetConnected} offline.
        </p>
      )}
      <div className="toolbar">
        <SearchField className="field" value={search} onChange={setSearch}>
          <Label>Filter by name or label</Label>
          <Input placeholder="region=eu-west env=prod" />
        </SearchField>
        <TextField className="field" value={selectorText} onChange={setSelectorText} isInvalid={!parsed.ok}>
          <Label>Label selector</Label>
          <Input placeholder="env in (prod,staging),!gpu" aria-describedby={parsed.ok ? undefined : 'fleet-selector-error'} />
        </TextField>
        <label className="field">
          Project
          <select value={project} onChange={(event) => setProject(event.target.value)}>
            <option value="">All projects</option>
            {(projects.data?.projects ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Show
          <select value={state} onChange={(event) => setState(event.target.value as ClusterState)}>
            <option value="all">All clusters</option>
            <option value="connected">Connected clusters</option>
            <option value="offline">Offline clusters</option>
            <option value="unhealthy">Clusters with an App not healthy</option>
            <option value="drifted">Clusters with a drifted App</option>
          </select>
        </label>
        <TextField className="field" value={groupBy} onChange={setGroupBy}>
          <Label>Group by label</Label>
          <Input />
        </TextField>
      </div>
      {!parsed.ok && (
        <p id="fleet-selector-error" role="alert" className="fleet-filter-error">
          Label selector: {parsed.message}
        </p>
      )}
      <QueryState fetching={fleet.key === undefined && !fleet.error} error={fleet.error} />
      {filter && shownKey !== undefined && fleet.fleetTotal !== undefined && fleet.total > 0 && (
        <p role="status">
          {fleet.total} of {fleet.fleetTotal} clusters match, {fleet.connected} connected.
        </p>
      )}
      {shownKey !== undefined && fleet.fleetTotal === 0 && <p>No cluster is registered yet (registerCluster).</p>}
      {shownKey !== undefined && fleet.total === 0 && fleet.fleetTotal !== 0 && <p>No cluster matches.</p>}
      {shownKey !== undefined && fleet.total > 0 && (
        <FleetList listKey={shownKey} groupBy={shownGroupBy} groups={fleet.groups} total={fleet.total} pageSize={PAGE_SIZE} clusterAt={clusterAt} onShow={fleet.show} now={now} />
      )}
    </section>
  );
}

/** The value once it has stopped changing for a moment (typing), at once when cleared. */
function useSettled(value: string): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    if (value === '') {
      setSettled('');
      return;
    }
    const timer = setTimeout(() => setSettled(value), TYPING_MS);
    return () => clearTimeout(timer);
  }, [value]);
  return settled;
}
