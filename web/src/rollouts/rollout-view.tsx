import { lazy, Suspense, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  AbortRolloutDocument,
  ApproveWaveDocument,
  PauseRolloutDocument,
  ResumeRolloutDocument,
  RollbackRolloutDocument,
  RolloutDocument,
  RolloutProgressDocument,
  type RolloutLiveFragment,
} from '../gen/graphql';
import { ConfirmAction } from '../components/confirm-action';
import { errorText, QueryState } from '../components/query-state';
import { phaseTone, Status, targetTone, words } from '../components/status';
import { Time } from '../components/time';
import { useNow } from '../components/use-interval';
import { canOperate, useSession } from '../session/session';
import { isActive, waveGates, waveStates, type WaveState } from './wave-states';

// The chart library is loaded with the rollout page only, not with the rest of the dashboard.
const WaveChart = lazy(() => import('./wave-chart'));

const WAVE_STATE_TEXT: Record<WaveState, string> = { done: 'Done', current: 'Current wave', waiting: 'Waiting', stopped: 'Stopped' };

/** One rollout, live: the query gives its state now, the rolloutProgress subscription every change after. */
export function RolloutView() {
  const id = useParams()['id'] ?? '';
  const [query] = useQuery({ query: RolloutDocument, variables: { id }, requestPolicy: 'network-only' });
  const [subscription] = useSubscription({ query: RolloutProgressDocument, variables: { id } });
  // The newest of what the query, the subscription and this page's own mutations returned.
  const [latest, setLatest] = useState<RolloutLiveFragment | undefined>();
  useEffect(() => {
    if (query.data?.rollout) setLatest(query.data.rollout);
  }, [query.data]);
  useEffect(() => {
    if (subscription.data?.rolloutProgress) setLatest(subscription.data.rolloutProgress);
  }, [subscription.data]);
  const now = useNow(1_000);

  if (!latest) {
    return (
      <section>
        <h1>Rollout {id}</h1>
        <QueryState fetching={query.fetching} error={query.error} />
        {query.data && !query.data.rollout && <p>No rollout {id}.</p>}
      </section>
    );
  }
  const rollout = latest;
  const live = isActive(rollout.phase) && !subscription.error;
  return (
    <section aria-labelledby="rollout-title">
      <h1 id="rollout-title">
        Rollout {rollout.id} of {rollout.appSet}
      </h1>
      <p className="summary">
        <span role="status" aria-label="Phase">
          <Status tone={phaseTone(rollout.phase)} text={words(rollout.phase)} />
        </span>{' '}
        · revision {rollout.appSetRevision} · {rollout.counts.healthy}/{rollout.counts.total} healthy, {rollout.counts.failed} failed · started <Time iso={rollout.startedAt} now={now} /> by {rollout.startedBy}
        {' · '}
        <span aria-live="polite">{live ? 'Live' : isActive(rollout.phase) ? 'Not live: reload the page' : 'Finished'}</span>
      </p>
      {subscription.error && (
        <p role="alert" className="error">
          Live updates stopped: {errorText(subscription.error)}
        </p>
      )}
      <p>
        <strong>Reason:</strong> <span data-testid="rollout-reason">{rollout.reason || '—'}</span>
      </p>
      {rollout.startReason && <p>Started because: {rollout.startReason}</p>}
      <RolloutActions rollout={rollout} onChanged={setLatest} />
      <WavePipeline rollout={rollout} now={now} />
      <Targets rollout={rollout} />
      <h2>Events</h2>
      <ol className="events">
        {rollout.events.map((event, i) => (
          <li key={i}>
            <Time iso={event.at} now={now} /> <strong>{event.kind}</strong> by {event.actor}: {event.message}
          </li>
        ))}
      </ol>
      <p>
        <Link to="/rollouts">All rollouts</Link>
      </p>
    </section>
  );
}

function WavePipeline({ rollout, now }: { rollout: RolloutLiveFragment; now: number }) {
  const states = waveStates(rollout);
  return (
    <>
      <h2 id="waves-title">Waves</h2>
      <ol className="pipeline" aria-labelledby="waves-title">
        {rollout.waves.map((wave, index) => {
          const state = states[index]!;
          return (
            <li key={wave.name} className={`wave wave-${state}`} aria-current={state === 'current' ? 'step' : undefined} aria-label={`Wave ${wave.name}`}>
              <h3>
                {index + 1}. {wave.name}
              </h3>
              <p className="wave-state">{WAVE_STATE_TEXT[state]}</p>
              <p>
                {wave.counts.healthy}/{wave.counts.total} healthy · {wave.counts.progressing} progressing · {wave.counts.pending} pending · {wave.counts.failed} failed
              </p>
              <ul className="gates" aria-label={`Gates of wave ${wave.name}`}>
                {waveGates(wave, state, now).map((gate) => (
                  <li key={gate.text} className={gate.holding ? 'gate-holding' : undefined}>
                    {gate.holding ? <Status tone="warn" text={gate.text} /> : gate.text}
                  </li>
                ))}
              </ul>
            </li>
          );
        })}
      </ol>
      {rollout.waves.length > 0 && (
        <Suspense fallback={<p className="muted">Loading the chart…</p>}>
          <WaveChart waves={rollout.waves} />
        </Suspense>
      )}
    </>
  );
}

function Targets({ rollout }: { rollout: RolloutLiveFragment }) {
  return (
    <>
      <h2>Clusters</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Wave</th>
            <th scope="col">Cluster</th>
            <th scope="col">App</th>
            <th scope="col">State</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {rollout.targets.map((target) => (
            <tr key={`${target.cluster}/${target.app}`}>
              <td>{target.wave}</td>
              <th scope="row">{target.cluster}</th>
              <td>{target.app}</td>
              <td>
                <Status tone={targetTone(target.state)} text={words(target.state)} />
              </td>
              <td>{target.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Pause, resume, abort, rollback and approve, shown only to a caller who may use them. */
function RolloutActions({ rollout, onChanged }: { rollout: RolloutLiveFragment; onChanged: (rollout: RolloutLiveFragment) => void }) {
  const { me } = useSession();
  const [, pause] = useMutation(PauseRolloutDocument);
  const [, resume] = useMutation(ResumeRolloutDocument);
  const [, abort] = useMutation(AbortRolloutDocument);
  const [, rollback] = useMutation(RollbackRolloutDocument);
  const [, approve] = useMutation(ApproveWaveDocument);
  if (!canOperate(me, rollout.project)) return <p className="muted">You may watch this rollout; changing it needs the OPERATOR role in project {rollout.project}.</p>;

  const run = async <T,>(pending: Promise<{ error?: { graphQLErrors: { message: string }[]; message: string } | undefined; data?: T }>, pick: (data: T) => RolloutLiveFragment) => {
    const result = await pending;
    if (result.error) return result.error.graphQLErrors.map((e) => e.message).join('; ') || result.error.message;
    if (result.data) onChanged(pick(result.data));
    return undefined;
  };
  const active = isActive(rollout.phase);
  const waitingApproval = rollout.waves.find((wave) => wave.name === rollout.currentWave && wave.approval && !wave.approved);
  return (
    <div className="actions" role="group" aria-label="Rollout actions">
      {rollout.phase === 'PROGRESSING' && (
        <ConfirmAction
          label="Pause"
          title={`Pause rollout ${rollout.id}?`}
          description="No more clusters are released until it is resumed; what was released stays."
          confirmLabel="Pause rollout"
          onConfirm={(reason) => run(pause({ id: rollout.id, reason }), (d) => d.pauseRollout)}
        />
      )}
      {rollout.phase === 'PAUSED' && (
        <ConfirmAction
          label="Resume"
          title={`Resume rollout ${rollout.id}?`}
          description="Releasing goes on from the current wave."
          confirmLabel="Resume rollout"
          onConfirm={(reason) => run(resume({ id: rollout.id, reason }), (d) => d.resumeRollout)}
        />
      )}
      {waitingApproval && (
        <ConfirmAction
          label={`Approve wave ${waitingApproval.name}`}
          title={`Approve wave ${waitingApproval.name}?`}
          description={`The ${waitingApproval.clusters.length} clusters of wave ${waitingApproval.name} may then receive the new revision.`}
          confirmLabel="Approve wave"
          onConfirm={(reason) => run(approve({ id: rollout.id, wave: waitingApproval.name, reason }), (d) => d.approveWave)}
        />
      )}
      {active && (
        <ConfirmAction
          label="Abort"
          danger
          title={`Abort rollout ${rollout.id}?`}
          description="The rollout stops for good; released clusters keep the new revision."
          confirmLabel="Abort rollout"
          onConfirm={(reason) => run(abort({ id: rollout.id, reason }), (d) => d.abortRollout)}
        />
      )}
      {rollout.phase !== 'ROLLED_BACK' && rollout.phase !== 'NOTHING_TO_DO' && (
        <ConfirmAction
          label="Roll back"
          danger
          title={`Roll back rollout ${rollout.id}?`}
          description="The previous revision is released again to every cluster that received this rollout."
          confirmLabel="Roll back"
          onConfirm={(reason) => run(rollback({ id: rollout.id, reason }), (d) => d.rollbackRollout)}
        />
      )}
    </div>
  );
}
