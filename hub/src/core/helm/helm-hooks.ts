/** Annotation helm puts on hook objects: a comma-separated list of events. */
export const HELM_HOOK = 'helm.sh/hook';
/** Kept as helm wrote it; the agent deletes hook objects per its values. */
export const HELM_HOOK_DELETE_POLICY = 'helm.sh/hook-delete-policy';
/** Kept as helm wrote it; order within a phase (lower first). */
export const HELM_HOOK_WEIGHT = 'helm.sh/hook-weight';
/** Set by the hub on hook objects: `pre` (applied and waited for before the rest) or `post` (after). */
export const FLOTILLA_PHASE = 'flotilla.dev/phase';

/** Why a hook object was left out of the App. */
export interface DroppedHook {
  readonly kind: string;
  readonly name: string;
  readonly events: readonly string[];
  readonly reason: 'test' | 'unsupported';
}

export interface MarkedHooks {
  readonly manifests: readonly Record<string, unknown>[];
  readonly dropped: readonly DroppedHook[];
}

const PRE = new Set(['pre-install', 'pre-upgrade']);
const POST = new Set(['post-install', 'post-upgrade']);
const TEST = new Set(['test', 'test-success', 'test-failure']);

/**
 * Turns helm hooks into apply phases for the agent: an object whose `helm.sh/hook` names
 * `pre-install`/`pre-upgrade` gets `flotilla.dev/phase: pre`, `post-install`/`post-upgrade` gets
 * `post` (pre wins when both are named); `helm.sh/hook-delete-policy` and `helm.sh/hook-weight` stay.
 * Test hooks are dropped, and so are hooks only for events Flotilla has no phase for (`pre-delete`,
 * `post-delete`, `pre-rollback`, `post-rollback`): the App has no such moment. Objects without the
 * annotation pass through unchanged. Never mutates its input; keeps the order.
 */
export function markHelmHooks(manifests: readonly Readonly<Record<string, unknown>>[]): MarkedHooks {
  const out: Record<string, unknown>[] = [];
  const dropped: DroppedHook[] = [];
  for (const manifest of manifests) {
    const metadata = isRecord(manifest['metadata']) ? manifest['metadata'] : {};
    const annotations = isRecord(metadata['annotations']) ? metadata['annotations'] : {};
    const hook = annotations[HELM_HOOK];
    if (typeof hook !== 'string') {
      out.push(manifest as Record<string, unknown>);
      continue;
    }
    const events = hook
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    const where = { kind: String(manifest['kind'] ?? ''), name: String(metadata['name'] ?? ''), events };
    if (events.some((e) => TEST.has(e))) {
      dropped.push({ ...where, reason: 'test' });
      continue;
    }
    const phase = events.some((e) => PRE.has(e)) ? 'pre' : events.some((e) => POST.has(e)) ? 'post' : undefined;
    if (phase === undefined) {
      dropped.push({ ...where, reason: 'unsupported' });
      continue;
    }
    out.push({ ...manifest, metadata: { ...metadata, annotations: { ...annotations, [FLOTILLA_PHASE]: phase } } });
  }
  return { manifests: out, dropped };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
