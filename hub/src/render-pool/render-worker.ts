/**
 * The entry of a render worker thread (piscina loads its default export). Pure computation only: it
 * imports core and nothing that does I/O, so a worker starts fast and holds no handle.
 */
import { canonicalJson } from '@flotilla/proto';
import { expandAppSet, DEFAULT_EXPANSION_LIMITS, type Expansion, type RenderedApp } from '../core/expand-app-set';
import { issue, type Issue } from '../core/issues';
import { previewAppSet, type StagedApp } from '../core/preview/preview-app-set';
import { checkProjectScope } from '../core/projects/check-project-scope';
import { projectScope, type ProjectRule } from '../core/projects/project-rule';
import { keyedMarker } from '../core/secrets/redaction';
import { ProgressBoard } from './progress-board';
import type { AppsMessage, RenderInput, RenderTask, WorkerLimits, WorkerMessage } from './render-task';

/** Apps per `apps` message: receiving one takes the event loop a few milliseconds, not seconds. */
const APPS_PER_MESSAGE = 500;

/** Runs one task; everything it reports goes through `task.port` (see WorkerMessage). */
export default function render(task: RenderTask): void {
  const post = (message: WorkerMessage) => task.port.postMessage(message);
  post({ kind: 'started' });
  const board = new ProgressBoard(task.progress);
  const expansion = expand(task, board, task.limits);
  if (task.kind === 'expand') {
    if (expansion.issues.length > 0 || expansion.needs.length > 0) return post({ kind: 'done', issues: expansion.issues, needs: expansion.needs });
    board.phase('sending');
    const sent = new Set<string>();
    for (let i = 0; i < expansion.apps.length; i += APPS_PER_MESSAGE) post(chunk(expansion.apps.slice(i, i + APPS_PER_MESSAGE), sent));
    return post({ kind: 'done', issues: [], needs: [] });
  }
  const stagedCount = task.staged.length;
  if (expansion.issues.length > 0 || expansion.needs.length > 0) return post({ kind: 'done', issues: expansion.issues, needs: expansion.needs, preview: null, stagedCount });
  board.phase('diffs');
  const staged: StagedApp[] = task.staged.map((s) => ({ clusterName: s.clusterName, appName: s.appName, revision: s.revision, manifests: JSON.parse(s.manifestsJson) as unknown[] }));
  const preview = previewAppSet(staged, expansion.apps, keyedMarker(task.markerKey));
  board.phase('sending');
  post({ kind: 'done', issues: [], needs: [], preview, stagedCount });
}

/** The expansion, checked against the project's allow-list and the output cap. */
function expand(input: RenderInput, board: ProgressBoard, limits: WorkerLimits): Expansion {
  board.phase('generators');
  // No clock: the pool's wall-clock limit is the one time limit (RENDER_TIMEOUT), whatever the phase.
  const expansion = expandAppSet(input.document, input.clusters, { ...DEFAULT_EXPANSION_LIMITS, maxAppBytes: limits.maxAppBytes }, {
    git: input.git,
    progress: { app: (at) => board.app(at.index, at.total, at.clusterName, at.source), leaf: (path) => board.leaf(path) },
  });
  if (expansion.issues.length > 0 || expansion.needs.length > 0) return expansion;
  board.phase('checks');
  const bytes = expansion.apps.reduce((sum, app) => sum + app.manifestBytes, 0);
  if (bytes > limits.maxOutputBytes) {
    const mib = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
    const refused = issue(
      'EXPANSION_TOO_LARGE',
      'spec.template',
      `AppSet "${input.document.metadata.name}" renders ${expansion.apps.length} Apps of ${mib(bytes)} of manifests in all; the limit is ${mib(limits.maxOutputBytes)} (${limits.maxOutputSetting}). Nothing was staged.`,
    );
    return { apps: [], issues: [refused], needs: [] };
  }
  return withinProject(expansion, input.project);
}

/** The expansion with the project's allow-list on every App, or its violations as issues and no Apps. */
function withinProject(expansion: Expansion, project: ProjectRule): Expansion {
  const issues: Issue[] = checkProjectScope(expansion.apps, project);
  if (issues.length > 0) return { apps: [], issues, needs: [] };
  const scope = projectScope(project);
  return { ...expansion, apps: expansion.apps.map((app) => ({ ...app, syncPolicy: { ...app.syncPolicy, projectScope: scope } })) };
}

/** A chunk of Apps, with the manifests of the revisions not `sent` yet (and now sent). */
function chunk(apps: readonly RenderedApp[], sent: Set<string>): AppsMessage {
  const bundles: [string, string][] = [];
  for (const app of apps) {
    if (sent.has(app.revision)) continue;
    sent.add(app.revision);
    bundles.push([app.revision, canonicalJson(app.manifests)]);
  }
  return { kind: 'apps', apps: apps.map(({ manifests: _manifests, ...rest }) => rest), bundles };
}
