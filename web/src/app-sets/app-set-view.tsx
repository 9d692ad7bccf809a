import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { AppSetDocument } from '../gen/graphql';
import { QueryState } from '../components/query-state';
import { healthTone, Status, syncTone, words } from '../components/status';
import { Time } from '../components/time';
import { useNow } from '../components/use-interval';
import { appMatrix } from './app-matrix';
import { RevisionDiff } from './revision-diff';

/** One AppSet: its revisions and the matrix of its Apps across clusters. */
export function AppSetView() {
  const params = useParams();
  const project = params['project'] ?? '';
  const name = params['name'] ?? '';
  const [result] = useQuery({ query: AppSetDocument, variables: { name, project }, requestPolicy: 'cache-and-network' });
  const now = useNow(10_000);
  const appSet = result.data?.appSet;
  if (!appSet) {
    return (
      <section>
        <h1>AppSet {name}</h1>
        <QueryState fetching={result.fetching} error={result.error} />
      </section>
    );
  }
  const matrix = appMatrix(appSet.apps);
  return (
    <section aria-labelledby="app-set-title">
      <h1 id="app-set-title">AppSet {appSet.name}</h1>
      <p>
        Project {appSet.project} · revision {appSet.revision} · {words(appSet.trigger)} trigger · managed by {appSet.source ?? 'the API'}
      </p>
      {appSet.condition && <p role="status"><Status tone="warn" text={appSet.condition} /></p>}
      {appSet.heldBackReason && <p>Held back: {appSet.heldBackReason}</p>}
      <p>
        <Link to={`/app-sets/preview?project=${encodeURIComponent(appSet.project)}&name=${encodeURIComponent(appSet.name)}`}>Edit and preview a change</Link>
      </p>
      <h2 id="matrix-title">Apps by cluster</h2>
      {matrix.names.length === 0 ? (
        <p>This AppSet stages no App.</p>
      ) : (
        <div className="scroll">
          <table className="table matrix" aria-labelledby="matrix-title">
            <thead>
              <tr>
                <th scope="col">App</th>
                {matrix.clusters.map((cluster) => (
                  <th scope="col" key={cluster}>
                    {cluster}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.names.map((appName) => (
                <tr key={appName}>
                  <th scope="row">{appName}</th>
                  {matrix.clusters.map((cluster) => {
                    const app = matrix.cell(appName, cluster);
                    return (
                      <td key={cluster}>
                        {app ? (
                          <>
                            <Link to={`/app-sets/${encodeURIComponent(appSet.project)}/${encodeURIComponent(appSet.name)}/apps/${encodeURIComponent(cluster)}/${encodeURIComponent(appName)}`} aria-label={`${appName} on ${cluster}`}>
                              <Status tone={healthTone(app.health)} text={words(app.health)} />
                            </Link>
                            <br />
                            <Status tone={syncTone(app.syncStatus)} text={words(app.syncStatus)} />
                            {app.drifted && (
                              <>
                                <br />
                                <Status tone="warn" text="Drifted" />
                              </>
                            )}
                            {app.pendingRelease && (
                              <>
                                <br />
                                <span className="muted">release pending</span>
                              </>
                            )}
                          </>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Revisions</h2>
      <ol className="revisions" reversed>
        {appSet.revisions.map((revision) => (
          <li key={revision.number}>
            <strong>Revision {revision.number}</strong> · <Time iso={revision.createdAt} now={now} /> by {revision.author}
            {revision.message && <> · {revision.message}</>}
            {revision.commit && (
              <>
                {' '}
                · commit <code>{revision.commit.sha.slice(0, 12)}</code> {revision.commit.subject}
              </>
            )}
          </li>
        ))}
      </ol>
      <h2>Compare revisions</h2>
      <RevisionDiff appSet={appSet.name} project={appSet.project} revisions={appSet.revisions.map((r) => r.number)} />
    </section>
  );
}
