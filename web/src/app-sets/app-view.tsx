import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { ClusterAppDocument } from '../gen/graphql';
import { QueryState } from '../components/query-state';
import { healthTone, Status, syncTone, words } from '../components/status';
import { Time } from '../components/time';
import { useNow } from '../components/use-interval';
import { DriftedFields } from './drifted-fields';

/** One App on one cluster: its state, its objects (drifted fields as diffs) and where its parameters come from. */
export function AppView() {
  const params = useParams();
  const project = params['project'] ?? '';
  const appSet = params['name'] ?? '';
  const cluster = params['cluster'] ?? '';
  const name = params['app'] ?? '';
  const [result] = useQuery({ query: ClusterAppDocument, variables: { cluster, app: name }, requestPolicy: 'cache-and-network' });
  const now = useNow(10_000);
  const found = result.data?.cluster?.app;
  const app = found?.appSet === appSet ? found : undefined;
  const back = `/app-sets/${encodeURIComponent(project)}/${encodeURIComponent(appSet)}`;
  if (!app) {
    return (
      <section>
        <h1>
          App {name} on {cluster}
        </h1>
        <QueryState fetching={result.fetching} error={result.error} />
        {result.data && <p>No App {name} of AppSet {appSet} on {cluster}.</p>}
        <Link to={back}>AppSet {appSet}</Link>
      </section>
    );
  }
  return (
    <section aria-labelledby="app-title">
      <h1 id="app-title">
        App {app.name} on {cluster}
      </h1>
      <p>
        <Status tone={healthTone(app.health)} text={words(app.health)} /> · <Status tone={syncTone(app.syncStatus)} text={words(app.syncStatus)} />
        {app.drifted && (
          <>
            {' · '}
            <Status tone="warn" text="Drifted" />
          </>
        )}{' '}
        · observed <Time iso={app.observedAt} now={now} />
      </p>
      {app.message && <p>Why: {app.message}</p>}
      <p className="muted">
        Released revision {app.revision ? app.revision.slice(0, 12) : 'none'} · staged {app.stagedRevision ? app.stagedRevision.slice(0, 12) : 'removal'}
      </p>
      <h2 id="resources-title">Objects</h2>
      {app.resources.length === 0 ? (
        <p>No object reported yet.</p>
      ) : (
        <table className="table" aria-labelledby="resources-title">
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col">Health</th>
              <th scope="col">Drift</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {app.resources.map((resource) => (
              <tr key={`${resource.apiVersion}/${resource.kind}/${resource.namespace}/${resource.name}`}>
                <th scope="row">
                  {resource.kind} {resource.namespace ? `${resource.namespace}/` : ''}
                  {resource.name}
                </th>
                <td>
                  <Status tone={healthTone(resource.health)} text={words(resource.health)} />
                </td>
                <td>
                  {resource.drifted ? (
                    <>
                      <Status tone="warn" text="Drifted" />
                      <DriftedFields resource={resource} />
                    </>
                  ) : (
                    <Status tone="good" text="As applied" />
                  )}
                </td>
                <td>{resource.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {app.resources.some((resource) => resource.drift.some((field) => field.valuesKnown && !field.redacted)) && (
        <p className="muted">In a drifted field, “-” is the value as applied and “+” the live value.</p>
      )}
      {app.resourcesTruncated && <p className="muted">Only the worst objects were reported (too many to list).</p>}
      {app.explain && (
        <>
          <h2>Parameters</h2>
          <ul>
            {app.explain.sources.map((source, i) => (
              <li key={i}>
                <code>{source.generator}</code>: {source.element}
              </li>
            ))}
          </ul>
          <pre className="diff" aria-label="Parameters" tabIndex={0}>
            {JSON.stringify(app.explain.parameters, null, 2)}
          </pre>
        </>
      )}
      <p>
        <Link to={back}>AppSet {appSet}</Link>
      </p>
    </section>
  );
}
