import { useState } from 'react';
import { Button, Input, Label, TextField } from 'react-aria-components';
import { useQuery } from 'urql';
import { AuditEventsDocument, type AuditEventFilter } from '../gen/graphql';
import { QueryState } from '../components/query-state';
import { Status, words } from '../components/status';

const PAGE = 50;

/** The audit log, newest first, filtered by actor, kind and project. */
export function AuditView() {
  const [actor, setActor] = useState('');
  const [kind, setKind] = useState('');
  const [project, setProject] = useState('');
  const [filter, setFilter] = useState<AuditEventFilter>({});
  const [first, setFirst] = useState(PAGE);
  const [result] = useQuery({ query: AuditEventsDocument, variables: { first, filter }, requestPolicy: 'cache-and-network' });
  const page = result.data?.auditEvents;
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <form
        className="toolbar"
        aria-label="Audit filters"
        onSubmit={(event) => {
          event.preventDefault();
          const next: AuditEventFilter = {};
          if (actor.trim()) next.actor = actor.trim();
          if (kind.trim()) next.kind = kind.trim();
          if (project.trim()) next.project = project.trim();
          setFirst(PAGE);
          setFilter(next);
        }}
      >
        <TextField className="field" value={actor} onChange={setActor}>
          <Label>Actor</Label>
          <Input placeholder="token:ci" />
        </TextField>
        <TextField className="field" value={kind} onChange={setKind}>
          <Label>Kind</Label>
          <Input placeholder="pauseRollout" />
        </TextField>
        <TextField className="field" value={project} onChange={setProject}>
          <Label>Project</Label>
          <Input />
        </TextField>
        <Button className="button primary" type="submit">
          Apply filters
        </Button>
      </form>
      <QueryState fetching={result.fetching && !result.data} error={result.error} />
      {page && page.nodes.length === 0 && <p>No audit event matches.</p>}
      {page && page.nodes.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Kind</th>
              <th scope="col">Outcome</th>
              <th scope="col">Project</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {page.nodes.map((event) => (
              <tr key={event.id}>
                <td>
                  <time dateTime={event.at}>{new Date(event.at).toLocaleString()}</time>
                </td>
                <td>{event.actor}</td>
                <th scope="row">{event.kind}</th>
                <td>
                  <Status tone={event.outcome === 'SUCCESS' ? 'good' : 'bad'} text={words(event.outcome)} />
                  {event.reason && <span className="muted"> {event.reason}</span>}
                </td>
                <td>{event.project ?? 'fleet'}</td>
                <td>{event.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.pageInfo.hasNextPage && first < 500 && (
        <Button className="button" onPress={() => setFirst((n) => Math.min(n + PAGE, 500))}>
          Show more
        </Button>
      )}
    </section>
  );
}
