import { DriftPolicy, LIMITS, SyncMode, revisionOf, shortRevision, truncateText, utf8Bytes } from '@flotilla/proto';

/**
 * What the agent decides about each DesiredApp and RemoveApp it receives, given what it already holds
 * for that App. Level-based: generations order everything, revisions are verified, nothing regresses.
 */

/** How the agent may change an App's objects, normalised (no UNSPECIFIED values left). */
export interface SyncPolicySpec {
  readonly mode: SyncMode;
  readonly drift: DriftPolicy;
  readonly preserveResourcesOnDeletion: boolean;
  /** Server-side apply with `force`; otherwise a field conflict is reported with its manager. */
  readonly forceConflicts?: boolean;
  /** What the App's objects may be (the AppSet's own scope); absent means no restriction. */
  readonly scope?: ScopeSpec | undefined;
  /**
   * What the App's project allows its Apps to contain; absent means no project restriction (hubs older
   * than this field never send it). The App is held to the intersection of `scope` and `projectScope`.
   */
  readonly projectScope?: ScopeSpec | undefined;
}

/**
 * The objects an App may contain (see the protocol's `Scope`). `namespaces`: patterns for namespaced
 * objects, empty meaning only the App's namespace. `kinds`: `Kind` or `group/Kind` patterns, empty
 * meaning any kind. `clusterScoped`: whether cluster-scoped objects are allowed.
 */
export interface ScopeSpec {
  readonly namespaces: readonly string[];
  readonly kinds: readonly string[];
  readonly clusterScoped: boolean;
}

/** An accepted DesiredApp: the complete desired state the agent holds and applies for one App. */
export interface AcceptedApp {
  readonly kind: 'app';
  readonly appName: string;
  readonly appSet: string;
  /** Verified: the sha256 of the canonical JSON of `manifestsJson`. */
  readonly revision: string;
  readonly generation: bigint;
  readonly namespace: string;
  readonly manifestsJson: string;
  readonly syncPolicy: SyncPolicySpec;
}

/** A removed App. Keeps the generation so that a late, older DesiredApp cannot bring the App back. */
export interface Tombstone {
  readonly kind: 'tombstone';
  readonly appName: string;
  readonly generation: bigint;
  readonly preserveResources: boolean;
  /** When the removal was accepted (agent clock), used to prune the oldest tombstones first. */
  readonly removedAtUnixMs: number;
}

/** What the agent holds for one App name. */
export type DesiredEntry = AcceptedApp | Tombstone;

/** A DesiredApp as received (the generated `DesiredApp` message fits this shape). */
export interface IncomingDesiredApp {
  readonly appName: string;
  readonly appSet: string;
  readonly revision: string;
  readonly generation: bigint;
  readonly namespace: string;
  readonly manifestsJson: string;
  readonly syncPolicy?: Partial<SyncPolicySpec> | undefined;
}

/** A RemoveApp as received (the generated `RemoveApp` message fits this shape). */
export interface IncomingRemoveApp {
  readonly appName: string;
  readonly generation: bigint;
  readonly preserveResources: boolean;
}

/** The content of an Ack. `error` is empty when accepted and bounded in size otherwise. */
export interface AckContent {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
  readonly accepted: boolean;
  readonly error: string;
}

/** One Kubernetes object of an App, as parsed from `manifestsJson`. */
export type Manifest = Readonly<Record<string, unknown>>;

/** One entry of an Inventory: an App the agent holds (tombstones are not listed). */
export interface HeldAppRef {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
}

/**
 * Decision about a DesiredApp. `accept`: hold `entry`, apply `manifests`. `duplicate`: re-send the ack,
 * do nothing else. `reject`: send the negative ack, keep what is held. `ignore`: stale, send nothing.
 */
export type DesiredAppDecision =
  | { readonly kind: 'accept'; readonly entry: AcceptedApp; readonly manifests: readonly Manifest[]; readonly ack: AckContent }
  | { readonly kind: 'duplicate'; readonly ack: AckContent }
  | { readonly kind: 'reject'; readonly ack: AckContent }
  | { readonly kind: 'ignore'; readonly reason: string };

/** Decision about a RemoveApp; `remove` means: hold `entry` (a tombstone) and remove the App. */
export type RemoveAppDecision =
  | { readonly kind: 'remove'; readonly entry: Tombstone; readonly ack: AckContent }
  | { readonly kind: 'duplicate'; readonly ack: AckContent }
  | { readonly kind: 'reject'; readonly ack: AckContent }
  | { readonly kind: 'ignore'; readonly reason: string };

/** Longest App name accepted (a Kubernetes object name). */
export const MAX_APP_NAME_LENGTH = 253;

/**
 * Decides what to do with a DesiredApp given the entry held for its App (if any). Never throws and
 * never mutates its inputs. Order of checks: malformed → reject; older generation → ignore; same
 * generation → duplicate when it is the same release, reject when it conflicts; newer generation →
 * verify size, JSON shape and revision, then accept.
 */
export function decideDesiredApp(
  held: DesiredEntry | undefined,
  incoming: IncomingDesiredApp,
  maxManifestBytes: number = LIMITS.maxAppManifestBytes,
): DesiredAppDecision {
  const reject = (error: string): DesiredAppDecision => ({ kind: 'reject', ack: ackOf(incoming, incoming.revision, error) });
  const malformed = malformedProblem(incoming.appName, incoming.generation);
  if (malformed !== undefined) return reject(malformed);

  if (held !== undefined && incoming.generation < held.generation) {
    return { kind: 'ignore', reason: `generation ${incoming.generation} is older than held generation ${held.generation}` };
  }
  if (held !== undefined && incoming.generation === held.generation) {
    if (held.kind === 'tombstone') return reject(`generation ${held.generation} of this App is a removal; a release needs a newer generation`);
    if (held.revision !== incoming.revision) {
      return reject(
        `generation ${held.generation} already holds revision ${shortRevision(held.revision)}; a different revision needs a newer generation`,
      );
    }
    return { kind: 'duplicate', ack: ackOf(incoming, incoming.revision, '') };
  }

  const verified = verifyManifests(incoming.manifestsJson, incoming.revision, maxManifestBytes);
  if (!verified.ok) return reject(verified.error);
  return {
    kind: 'accept',
    manifests: verified.manifests,
    ack: ackOf(incoming, incoming.revision, ''),
    entry: {
      kind: 'app',
      appName: incoming.appName,
      appSet: incoming.appSet,
      revision: incoming.revision,
      generation: incoming.generation,
      namespace: incoming.namespace,
      manifestsJson: incoming.manifestsJson,
      syncPolicy: normalizeSyncPolicy(incoming.syncPolicy),
    },
  };
}

/**
 * Decides what to do with a RemoveApp. Removing an App the agent never held is accepted (the tombstone
 * still guards against a late DesiredApp). `nowUnixMs` stamps the tombstone.
 */
export function decideRemoveApp(held: DesiredEntry | undefined, incoming: IncomingRemoveApp, nowUnixMs: number): RemoveAppDecision {
  const malformed = malformedProblem(incoming.appName, incoming.generation);
  if (malformed !== undefined) return { kind: 'reject', ack: ackOf(incoming, '', malformed) };
  if (held !== undefined && incoming.generation < held.generation) {
    return { kind: 'ignore', reason: `generation ${incoming.generation} is older than held generation ${held.generation}` };
  }
  if (held !== undefined && incoming.generation === held.generation) {
    if (held.kind === 'app') {
      return { kind: 'reject', ack: ackOf(incoming, '', `generation ${held.generation} of this App is a release; a removal needs a newer generation`) };
    }
    return { kind: 'duplicate', ack: ackOf(incoming, '', '') };
  }
  return {
    kind: 'remove',
    ack: ackOf(incoming, '', ''),
    entry: {
      kind: 'tombstone',
      appName: incoming.appName,
      generation: incoming.generation,
      preserveResources: incoming.preserveResources,
      removedAtUnixMs: nowUnixMs,
    },
  };
}

/** Result of {@link verifyManifests}. */
export type ManifestCheck = { readonly ok: true; readonly manifests: readonly Manifest[] } | { readonly ok: false; readonly error: string };

/**
 * Checks that `manifestsJson` is at most `maxBytes` of UTF-8, parses to a JSON array of objects, and
 * hashes to `revision`. Errors are short, bounded and never quote the manifests themselves.
 */
export function verifyManifests(manifestsJson: string, revision: string, maxBytes: number = LIMITS.maxAppManifestBytes): ManifestCheck {
  const bytes = utf8Bytes(manifestsJson);
  if (bytes > maxBytes) return { ok: false, error: `manifests are ${bytes} bytes, over the limit of ${maxBytes}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestsJson);
  } catch (error) {
    return { ok: false, error: truncateText(`manifests are not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 256) };
  }
  if (!Array.isArray(parsed)) return { ok: false, error: 'manifests must be a JSON array of Kubernetes objects' };
  const notObject = parsed.findIndex((item) => typeof item !== 'object' || item === null || Array.isArray(item));
  if (notObject >= 0) return { ok: false, error: `manifests[${notObject}] is not a JSON object` };
  let actual: string;
  try {
    actual = revisionOf(parsed);
  } catch (error) {
    // JSON.parse accepts numbers such as 1e999 that have no canonical JSON form.
    return { ok: false, error: truncateText(`manifests cannot be hashed: ${error instanceof Error ? error.message : String(error)}`, 256) };
  }
  if (actual !== revision) {
    return {
      ok: false,
      error: `revision mismatch: manifests hash to ${shortRevision(actual)}, the DesiredApp names ${JSON.stringify(shortRevision(revision))}`,
    };
  }
  return { ok: true, manifests: parsed as Manifest[] };
}

/**
 * Fills unspecified policy values with the non-destructive choice: create and update without pruning,
 * report drift without healing. The hub normally sends explicit values.
 */
export function normalizeSyncPolicy(policy: Partial<SyncPolicySpec> | undefined): SyncPolicySpec {
  const mode = policy?.mode ?? SyncMode.UNSPECIFIED;
  const drift = policy?.drift ?? DriftPolicy.UNSPECIFIED;
  return {
    mode: mode === SyncMode.UNSPECIFIED ? SyncMode.CREATE_UPDATE : mode,
    drift: drift === DriftPolicy.UNSPECIFIED ? DriftPolicy.REPORT : drift,
    preserveResourcesOnDeletion: policy?.preserveResourcesOnDeletion ?? false,
    ...(policy?.forceConflicts === true ? { forceConflicts: true } : {}),
    ...(policy?.scope ? { scope: copyScope(policy.scope) } : {}),
    ...(policy?.projectScope ? { projectScope: copyScope(policy.projectScope) } : {}),
  };
}

// A plain copy: the incoming scope may be a protobuf message, and the held policy must not share arrays with it.
function copyScope(scope: ScopeSpec): ScopeSpec {
  return { namespaces: [...scope.namespaces], kinds: [...scope.kinds], clusterScoped: scope.clusterScoped };
}

/** The Apps held (tombstones left out), sorted by App name. */
export function inventoryOf(entries: Iterable<DesiredEntry>): HeldAppRef[] {
  const refs: HeldAppRef[] = [];
  for (const entry of entries) {
    if (entry.kind === 'app') refs.push({ appName: entry.appName, revision: entry.revision, generation: entry.generation });
  }
  return refs.sort((a, b) => compareText(a.appName, b.appName));
}

/**
 * Names of the tombstones to forget so that at most `maxTombstones` remain: the oldest removals first
 * (ties broken by App name). Forgetting a tombstone only weakens protection against very late messages.
 */
export function tombstonesToPrune(entries: Iterable<DesiredEntry>, maxTombstones: number): string[] {
  const tombstones = [...entries].filter((entry): entry is Tombstone => entry.kind === 'tombstone');
  const excess = tombstones.length - Math.max(0, maxTombstones);
  if (excess <= 0) return [];
  return tombstones
    .sort((a, b) => a.removedAtUnixMs - b.removedAtUnixMs || compareText(a.appName, b.appName))
    .slice(0, excess)
    .map((tombstone) => tombstone.appName)
    .sort(compareText);
}

function malformedProblem(appName: string, generation: bigint): string | undefined {
  if (appName === '') return 'app name is missing';
  if (appName.length > MAX_APP_NAME_LENGTH) return `app name is longer than ${MAX_APP_NAME_LENGTH} characters`;
  // proto3 sends 0 for an unset field; generations start at 1, so 0 means the hub forgot it.
  if (generation < 1n) return 'generation is missing (must be at least 1)';
  return undefined;
}

function ackOf(incoming: { readonly appName: string; readonly generation: bigint }, revision: string, error: string): AckContent {
  return { appName: incoming.appName, revision, generation: incoming.generation, accepted: error === '', error: truncateText(error) };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
