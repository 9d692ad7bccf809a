import { useCallback } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { RolloutsDocument, StartRolloutDocument } from '../gen/graphql';
import { ConfirmAction } from '../components/confirm-action';
import { errorText, QueryState } from '../components/query-state';
import { phaseTone, Status, words } from '../components/status';
import { Time } from '../components/time';
import { useNow, useRefresh } from '../components/use-interval';
import { canOperate, useSession } from '../session/session';
import { useNavigate } from 'react-router';

/** Each AppSet with its latest rollouts, and a way to start one. */
export function RolloutsView() {
  const { me } = useSession();
  const navigate = useNavigate();
  const [result, reexecute] = useQuery({ query: RolloutsDocument, variables: { first: 5 } });
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  useRefresh(refresh, 5_000);
  const now = useNow(5_000);
  const [, startRollout] = useMutation(StartRolloutDocument);

  return (
    <section aria-labelledby="rollouts-title">
      <h1 id="rollouts-title">Rollouts</h1>
      <QueryState fetching={result.fetching && !result.data} error={result.error} />
      {result.data?.appSets.length === 0 && <p>No AppSet yet.</p>}
      {result.data?.appSets.map((appSet) => (
        <section key={`${appSet.project}/${appSet.name}`} className="group" aria-label={`AppSet ${appSet.name}`}>
          <h2>
            {appSet.name} <span className="muted">(project {appSet.project}, revision {appSet.revision})</span>
          </h2>
          {canOperate(me, appSet.project) && (
            <ConfirmAction
              label={`Start a rollout of ${appSet.name}`}
              title={`Start a rollout of ${appSet.name}?`}
              description={`Releases revision ${appSet.revision} wave by wave; an active rollout of this AppSet is superseded.`}
              confirmLabel="Start rollout"
              onConfirm={async (reason) => {
                const started = await startRollout({ appSet: appSet.name, project: appSet.project, reason });
                if (started.error) return errorText(started.error);
                if (started.data) void navigate(`/rollouts/${started.data.startRollout.id}`);
                return undefined;
              }}
            />
          )}
          {appSet.rollouts.length === 0 ? (
            <p>No rollout yet.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Rollout</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Revision</th>
                  <th scope="col">Wave</th>
                  <th scope="col">Healthy</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {appSet.rollouts.map((rollout) => (
                  <tr key={rollout.id}>
                    <th scope="row">
                      <Link to={`/rollouts/${rollout.id}`}>Rollout {rollout.id}</Link>
                    </th>
                    <td>
                      <Status tone={phaseTone(rollout.phase)} text={words(rollout.phase)} />
                    </td>
                    <td>{rollout.appSetRevision}</td>
                    <td>{rollout.currentWave ?? '—'}</td>
                    <td>
                      {rollout.counts.healthy}/{rollout.counts.total}
                    </td>
                    <td>
                      <Time iso={rollout.startedAt} now={now} /> by {rollout.startedBy}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </section>
  );
}
