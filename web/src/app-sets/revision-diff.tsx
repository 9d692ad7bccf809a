import { useState } from 'react';
import { useQuery } from 'urql';
import { AppSetRevisionDiffDocument } from '../gen/graphql';
import { DiffView } from '../components/diff-view';
import { QueryState } from '../components/query-state';

/** Two revisions of an AppSet side by side as a unified diff of their documents (secrets redacted). */
export function RevisionDiff({ appSet, project, revisions }: { appSet: string; project: string; revisions: number[] }) {
  const newest = revisions[0] ?? 1;
  const [from, setFrom] = useState(revisions[1] ?? newest);
  const [to, setTo] = useState(newest);
  const [result] = useQuery({ query: AppSetRevisionDiffDocument, variables: { appSet, project, from, to }, pause: revisions.length < 2 });
  if (revisions.length < 2) return <p>Only one revision so far.</p>;
  const options = revisions.map((n) => (
    <option key={n} value={n}>
      Revision {n}
    </option>
  ));
  return (
    <>
      <div className="toolbar">
        <label className="field">
          From
          <select value={from} onChange={(event) => setFrom(Number(event.target.value))}>
            {options}
          </select>
        </label>
        <label className="field">
          To
          <select value={to} onChange={(event) => setTo(Number(event.target.value))}>
            {options}
          </select>
        </label>
      </div>
      <QueryState fetching={result.fetching && !result.data} error={result.error} />
      {result.data && (result.data.appSetRevisionDiff ? <DiffView diff={result.data.appSetRevisionDiff} label={`Diff from revision ${from} to ${to}`} /> : <p>The two revisions are the same.</p>)}
    </>
  );
}
