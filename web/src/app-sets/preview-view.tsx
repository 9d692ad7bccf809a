import { useEffect, useState } from 'react';
import { Button, Label, TextArea, TextField } from 'react-aria-components';
import { useSearchParams } from 'react-router';
import { useClient, useMutation } from 'urql';
import { AppSetDocument, ApplyAppSetDocument, PreviewAppSetDocument, type PreviewAppSetQuery } from '../gen/graphql';
import { ConfirmAction } from '../components/confirm-action';
import { DiffView } from '../components/diff-view';
import { errorText } from '../components/query-state';
import { canOperate, useSession } from '../session/session';

type Preview = PreviewAppSetQuery['previewAppSet'];

/** Paste or edit an AppSet document, see what it would change per cluster, then apply it. */
export function PreviewView() {
  const { me } = useSession();
  const client = useClient();
  const [params] = useSearchParams();
  const [yaml, setYaml] = useState('');
  const [preview, setPreview] = useState<Preview | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [applied, setApplied] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [, applyAppSet] = useMutation(ApplyAppSetDocument);

  // Start from the AppSet's current document when the page was opened from an AppSet.
  const fromName = params.get('name');
  const fromProject = params.get('project');
  useEffect(() => {
    if (!fromName) return;
    let cancelled = false;
    void client
      .query(AppSetDocument, { name: fromName, project: fromProject }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        const current = result.data?.appSet?.revisions[0]?.yaml;
        if (!cancelled && current) setYaml((text) => text || current);
      });
    return () => {
      cancelled = true;
    };
  }, [client, fromName, fromProject]);

  const runPreview = async () => {
    setBusy(true);
    setApplied(undefined);
    const result = await client.query(PreviewAppSetDocument, { yaml }, { requestPolicy: 'network-only' }).toPromise();
    setBusy(false);
    if (result.error) {
      setPreview(undefined);
      setError(errorText(result.error));
    } else {
      setError(undefined);
      setPreview(result.data?.previewAppSet);
    }
  };

  return (
    <section aria-labelledby="preview-title">
      <h1 id="preview-title">Preview an AppSet change</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void runPreview();
        }}
      >
        <TextField className="field" value={yaml} onChange={(text) => { setYaml(text); setPreview(undefined); }}>
          <Label>AppSet document (YAML)</Label>
          <TextArea className="document" rows={18} spellCheck={false} />
        </TextField>
        <div className="actions">
          <Button className="button primary" type="submit" isDisabled={busy || yaml.trim() === ''}>
            Preview
          </Button>
        </div>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {applied && <p role="status">{applied}</p>}
      {preview && (
        <PreviewResult
          preview={preview}
          apply={
            canOperate(me) && preview.issues.length === 0 ? (
              <ConfirmAction
                label="Apply"
                title="Apply this AppSet document?"
                description="A new revision is stored and its Apps are staged; nothing reaches a cluster until a rollout."
                confirmLabel="Apply"
                reasonLabel="Message (kept with the revision)"
                onConfirm={async (message) => {
                  const result = await applyAppSet({ yaml, message: message || null });
                  if (result.error) return errorText(result.error);
                  const payload = result.data?.applyAppSet;
                  if (payload && payload.issues.length > 0) return payload.issues.map((issue) => `${issue.code} at ${issue.path}: ${issue.message}`).join('; ');
                  setApplied(payload?.appSet ? (payload.changed ? `Applied: ${payload.appSet.name} is at revision ${payload.appSet.revision}.` : `Nothing new: ${payload.appSet.name} already is this document.`) : 'Applied.');
                  setPreview(undefined);
                  return undefined;
                }}
              />
            ) : null
          }
        />
      )}
    </section>
  );
}

function PreviewResult({ preview, apply }: { preview: Preview; apply: React.ReactNode }) {
  return (
    <section aria-label="Preview result" className="preview">
      <h2>What would change</h2>
      {preview.totals && (
        <p>
          {preview.totals.added} Apps added, {preview.totals.changed} changed, {preview.totals.removed} removed, {preview.totals.unchanged} unchanged.
        </p>
      )}
      {preview.issues.length > 0 && (
        <>
          <h3>Problems (nothing can be applied)</h3>
          <ul className="issues">
            {preview.issues.map((issue, i) => (
              <li key={i}>
                <strong>{issue.code}</strong> at {issue.path}
                {issue.line ? ` (line ${issue.line})` : ''}: {issue.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {preview.clusters.map((cluster) => (
        <section key={cluster.cluster} aria-label={`Cluster ${cluster.cluster}`} className="group">
          <h3>
            Cluster {cluster.cluster}: {cluster.added.length} added, {cluster.changed.length} changed, {cluster.removed.length} removed
          </h3>
          {[...cluster.added.map((c) => ({ ...c, what: 'added' })), ...cluster.changed.map((c) => ({ ...c, what: 'changed' })), ...cluster.removed.map((c) => ({ ...c, what: 'removed' }))].map((change) => (
            <details key={`${change.what}/${change.app}`} open>
              <summary>
                App {change.app} {change.what}
              </summary>
              <DiffView diff={change.diff} label={`Diff of App ${change.app} on ${cluster.cluster}`} />
            </details>
          ))}
        </section>
      ))}
      {preview.clusters.length === 0 && preview.issues.length === 0 && <p>No cluster would change.</p>}
      {apply && <div className="actions">{apply}</div>}
    </section>
  );
}
