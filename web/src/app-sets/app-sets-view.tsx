import { Link } from 'react-router';
import { useQuery } from 'urql';
import { AppSetsDocument } from '../gen/graphql';
import { QueryState } from '../components/query-state';
import { Status, words } from '../components/status';
import { Time } from '../components/time';
import { useNow } from '../components/use-interval';

/** Every AppSet the caller may see. */
export function AppSetsView() {
  const [result] = useQuery({ query: AppSetsDocument, requestPolicy: 'cache-and-network' });
  const now = useNow(10_000);
  return (
    <section aria-labelledby="app-sets-title">
      <h1 id="app-sets-title">AppSets</h1>
      <p>
        <Link to="/app-sets/preview">Preview a change</Link>
      </p>
      <QueryState fetching={result.fetching && !result.data} error={result.error} />
      {result.data?.appSets.length === 0 && <p>No AppSet yet.</p>}
      {result.data && result.data.appSets.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">AppSet</th>
              <th scope="col">Project</th>
              <th scope="col">Revision</th>
              <th scope="col">Trigger</th>
              <th scope="col">Source</th>
              <th scope="col">Condition</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {result.data.appSets.map((appSet) => (
              <tr key={`${appSet.project}/${appSet.name}`}>
                <th scope="row">
                  <Link to={`/app-sets/${encodeURIComponent(appSet.project)}/${encodeURIComponent(appSet.name)}`}>{appSet.name}</Link>
                </th>
                <td>{appSet.project}</td>
                <td>{appSet.revision}</td>
                <td>{words(appSet.trigger)}</td>
                <td>{appSet.source ?? 'API'}</td>
                <td>{appSet.condition ? <Status tone="warn" text={appSet.condition} /> : <Status tone="good" text="In sync" />}</td>
                <td>
                  <Time iso={appSet.updatedAt} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
