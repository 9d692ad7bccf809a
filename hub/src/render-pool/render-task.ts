import type { MessagePort } from 'node:worker_threads';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import type { RenderedApp } from '../core/expand-app-set';
import type { GitNeed, GitSnapshot } from '../core/generators/git-snapshot';
import type { ClusterSnapshot } from '../core/generators/param-set';
import type { Issue } from '../core/issues';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import type { ProjectRule } from '../core/projects/project-rule';

/**
 * What a render needs, gathered on the main thread (clusters and the project from the database, Git
 * reads): plain, structured-cloneable data.
 */
export interface RenderInput {
  readonly document: AppSetDocument;
  /** The clusters the document's project owns. */
  readonly clusters: readonly ClusterSnapshot[];
  readonly git: GitSnapshot;
  /** The project: its allow-list is checked on every rendered object and travels with every App. */
  readonly project: ProjectRule;
}

/** An App as staged now, manifests as stored (canonical JSON): a preview's "before" side. */
export interface StagedManifests {
  readonly clusterName: string;
  readonly appName: string;
  readonly revision: string;
  readonly manifestsJson: string;
}

/** A preview's inputs: the render's, what is staged now, and the key of the redaction marker. */
export interface PreviewInput extends RenderInput {
  readonly staged: readonly StagedManifests[];
  /** Key of the keyed marker (core/secrets) that shows secret values in the diffs; a function cannot cross threads. */
  readonly markerKey: Uint8Array;
}

/**
 * A rendered App as a worker hands it back: its manifests as canonical JSON (what is stored and
 * hashed), so that the event loop neither rebuilds nor re-serialises the objects.
 */
export type PackedApp = Omit<RenderedApp, 'manifests'> & { readonly manifestsJson: string };

/** An expansion as a worker hands it back: every App, or issues and no App, or only Git needs. */
export interface PackedExpansion {
  readonly apps: readonly PackedApp[];
  readonly issues: readonly Issue[];
  readonly needs: readonly GitNeed[];
}

/** A preview as a worker hands it back; `preview` is null when there are issues or needs. */
export interface PreviewOutcome {
  readonly preview: AppSetPreview | null;
  readonly issues: readonly Issue[];
  readonly needs: readonly GitNeed[];
  /** How many Apps are staged now (for the deletion breaker). */
  readonly stagedCount: number;
}

/**
 * A chunk of Apps on the wire: without their manifests, which come once per revision in `bundles`
 * (`[revision, canonical JSON]`, only revisions no earlier chunk carried). Apps of one revision have
 * the same manifests, and a fleet usually has far fewer revisions than Apps.
 */
export interface AppsMessage {
  readonly kind: 'apps';
  readonly apps: readonly Omit<PackedApp, 'manifestsJson'>[];
  readonly bundles: readonly (readonly [revision: string, manifestsJson: string])[];
}

/** Limits a worker applies itself (the pool enforces time and heap from outside). */
export interface WorkerLimits {
  readonly maxOutputBytes: number;
  /** For messages: the name of the setting behind `maxOutputBytes`. */
  readonly maxOutputSetting: string;
  /** Largest canonical manifests JSON of one App (FLOTILLA_MAX_APP_MB); larger is APP_TOO_LARGE. */
  readonly maxAppBytes: number;
}

/** One task as posted to a worker. `port` and `progress` connect it back to the pool. */
export type RenderTask =
  | ({ readonly kind: 'expand' } & RenderInput & TaskChannel)
  | ({ readonly kind: 'preview' } & PreviewInput & TaskChannel);

export interface TaskChannel {
  readonly limits: WorkerLimits;
  /** Where the worker says it started, streams Apps and says it is done (see {@link WorkerMessage}). */
  readonly port: MessagePort;
  /** The progress board (see progress-board.ts), shared memory the pool reads after stopping a worker. */
  readonly progress: SharedArrayBuffer;
}

/**
 * Messages of a worker on its task's port, in order: `started` (the wall clock starts), for an
 * expansion any number of `apps` chunks (so that no single message takes long to receive), then `done`.
 * Nothing is sent before the whole render succeeded or failed with issues: a stopped render sends no App.
 */
export type WorkerMessage =
  | { readonly kind: 'started' }
  | AppsMessage
  | { readonly kind: 'done'; readonly issues: readonly Issue[]; readonly needs: readonly GitNeed[]; readonly preview?: AppSetPreview | null; readonly stagedCount?: number };
