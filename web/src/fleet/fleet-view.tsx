import { useMemo, useState } from 'react';
import { Input, Label, SearchField, TextField } from 'react-aria-components';
import { QueryState } from '../components/query-state';
import { Status } from '../components/status';
import { Time } from '../components/time';
import { useNow } from '../components/use-interval';
import { appCounts, groupClusters, labelWords, matchesFilter, matchesState, type ClusterState, type FleetCluster } from './group-clusters';
import { useFleet } from './use-fleet';

/** Every cluster, grouped by a label (region by default), with its connection and its Apps at a glance. */
export function FleetView() {
  const fleet = useFleet();
  const now = useNow(5_000);
  const [filter, setFilter] = useState('');
  const [groupBy, setGroupBy] = useState('region');
  const [state, setState] = useState<ClusterState>('all');
  const clusters = useMemo(() => (fleet.clusters ?? []).filter((c) => matchesFilter(c, filter) && matchesState(c, state)), [fleet.clusters, filter, state]);
  const groups = useMemo(() => groupClusters(clusters, groupBy.trim()), [clusters, groupBy]);
  const all = fleet.clusters ?? [];
  const connected = all.filter((c) => c.connected).length;

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <p>
        {all.length} clusters, {connected} connected, {all.length - connected} offline.
      </p>
      <div className="toolbar">
        <SearchField className="field" value={filter} onChange={setFilter}>
          <Label>Filter by name or label</Label>
          <Input placeholder="region=eu-west env=prod" />
        </SearchField>
        <label className="field">
          Show
          <select value={state} onChange={(event) => setState(event.target.value as ClusterState)}>
            <option value="all">All clusters</option>
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
      <QueryState fetching={fleet.clusters === undefined} error={fleet.error} />
      {fleet.truncated && <p role="status">Showing the first {all.length} clusters.</p>}
      {fleet.clusters && all.length === 0 && <p>No cluster is registered yet (registerCluster).</p>}
      {fleet.clusters && all.length > 0 && clusters.length === 0 && <p>No cluster matches.</p>}
      {groups.map((group) => (
        <section key={group.value} className="group" aria-label={group.value ? `${groupBy}=${group.value}` : `no ${groupBy} label`}>
          <h2>
            {group.value ? `${groupBy}=${group.value}` : `No ${groupBy} label`} <span className="muted">({group.clusters.length})</span>
          </h2>
          <ClusterTable clusters={group.clusters} now={now} />
        </section>
      ))}
    </section>
  );
}

function ClusterTable({ clusters, now }: { clusters: FleetCluster[]; now: number }) {
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Cluster</th>
          <th scope="col">Agent</th>
          <th scope="col">Last seen</th>
          <th scope="col">Kubernetes</th>
          <th scope="col">Apps healthy</th>
          <th scope="col">Apps synced</th>
          <th scope="col">Labels</th>
        </tr>
      </thead>
      <tbody>
        {clusters.map((cluster) => {
          const counts = appCounts(cluster);
          return (
            <tr key={cluster.name}>
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
              <td className="labels">{labelWords(cluster.labels).join(' ')}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
