import { DriftPolicy, SyncMode } from '@flotilla/proto';
import { nextBackoffMs } from '../../core/backoff.js';
import { describeDriftValues, redactSecretPaths, type DriftedValue } from '../../core/kube/drift-values.js';
import { driftedFields, type DriftedField } from '../../core/kube/field-diff.js';
import { ownersOf } from '../../core/kube/field-owners.js';
import { decideHeal, describeFight, recordHeal } from '../../core/kube/heal.js';
import { describeRef, objectKey, recordAt, type KubeObject } from '../../core/kube/object-ref.js';
import { messageOf } from './kube-client.js';
import { applyObject, readObject } from './object-operations.js';
import type { DriftRecord, DriverContext, TrackedApp, TrackedObject } from './tracked-app.js';

/**
 * Drift detection and healing for the objects of applied Apps.
 *
 * A change seen by a watch is first compared, without any request, with what the server made of the
 * applied configuration (the apply's answer): status-only changes and the agent's own writes stop
 * there. A difference is then confirmed against the server: a fresh read and a server-side apply dry
 * run of the desired object (`dryRun=All`, forced, so another manager's ownership does not hide the
 * result), compared field by field over the applied configuration. Drift is reported with its field
 * paths, their values on both sides (secret ones redacted) and the managers now owning them; under the heal policy it is healed by a forced apply (the
 * agent takes back fields it applied before) after a backoff, and a manager that keeps undoing heals
 * is reported as a fight and left alone for a growing quiet period (see core/kube/heal.ts).
 */

/**
 * Called when the live state of a tracked object changed (a watch event; `live` undefined: gone).
 * Costs no request unless the fields the App sets differ from what the apply produced, or differ in
 * other ways than the drift already recorded (other paths, or other live values: a field edited
 * again is reported with its new value; a fight's quiet period is not cut short by events).
 */
export function observeLive(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject): void {
  if (!isWatched(ctx, app, tracked) || tracked.expected === undefined) return;
  if (tracked.live !== undefined) {
    const fields = driftedFields(tracked.desired.body, tracked.expected, tracked.live);
    const paths = redactSecretPaths(fields, app.secretValues).map((field) => field.path);
    if (paths.length === 0) {
      if (tracked.drift !== undefined) {
        tracked.drift = undefined;
        tracked.timer?.cancel();
        tracked.timer = undefined;
      }
      return;
    }
    const recorded = tracked.drift;
    if (
      recorded !== undefined &&
      !recorded.deleted &&
      samePaths(paths, recorded.fields.map((field) => field.path)) &&
      sameLiveValues(valuesOf(app, tracked, fields, tracked.expected, tracked.live), recorded.values)
    ) {
      // Nothing new about the fields the App sets; whatever is scheduled (heal, fight, retry) stands.
      if (tracked.timer !== undefined || app.spec.syncPolicy.drift !== DriftPolicy.HEAL) return;
    }
  } else if (tracked.drift?.deleted === true && tracked.timer !== undefined) {
    return;
  }
  scheduleCheck(ctx, app, tracked, ctx.tuning.driftDebounceMs);
}

/** Cancels the drift check or heal scheduled for every object of the App. */
export function cancelDriftWork(app: TrackedApp): void {
  for (const tracked of app.objects.values()) {
    tracked.timer?.cancel();
    tracked.timer = undefined;
  }
}

/** The newer of two versions of an object, by resourceVersion when both are numbers (etcd's are). */
export function newerObject(current: KubeObject | undefined, candidate: KubeObject): KubeObject | undefined {
  const a = versionNumber(current);
  const b = versionNumber(candidate);
  return a !== undefined && b !== undefined && b < a ? current : candidate;
}

function isWatched(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject): boolean {
  return (
    !ctx.isClosed() &&
    app.complete &&
    !app.busy &&
    ctx.apps.get(app.spec.appName) === app &&
    app.objects.get(objectKey(tracked.desired.ref)) === tracked &&
    app.spec.syncPolicy.mode !== SyncMode.CREATE_ONLY &&
    tracked.state.kind === 'applied' &&
    !tracked.createOnly &&
    tracked.type !== undefined &&
    tracked.expected !== undefined
  );
}

function scheduleCheck(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject, delayMs: number): void {
  tracked.timer?.cancel();
  tracked.timer = ctx.clock.setTimer(() => {
    tracked.timer = undefined;
    void check(ctx, app, tracked);
  }, delayMs);
}

async function check(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject): Promise<void> {
  if (!isWatched(ctx, app, tracked) || tracked.type === undefined) return;
  if (tracked.checking) {
    tracked.recheck = true;
    return;
  }
  tracked.checking = true;
  const { ref, body } = tracked.desired;
  try {
    const fresh = await readObject(ctx.client, tracked.type, ref);
    if (!isWatched(ctx, app, tracked)) return;
    let drift: DriftRecord | undefined;
    if (fresh === undefined) {
      tracked.live = undefined;
      drift = { fields: [], values: [], managers: [], deleted: true, note: undefined };
    } else {
      tracked.live = newerObject(tracked.live, fresh);
      const dryRun = await applyObject(ctx.client, tracked.type, ref, body, { force: true, dryRun: true });
      if (!isWatched(ctx, app, tracked)) return;
      const fields = driftedFields(body, dryRun, fresh);
      if (fields.length === 0) {
        // The server's view of the configuration moved (a default changed, a webhook): adopt it.
        tracked.expected = dryRun;
      } else {
        const managers = [...new Set(fields.flatMap((field) => ownersOf(fresh, field.segments)))].sort();
        // Paths are reported, logged and shown: an item named from a secret reference shows (secret).
        drift = { fields: redactSecretPaths(fields, app.secretValues), values: valuesOf(app, tracked, fields, dryRun, fresh), managers, deleted: false, note: undefined };
      }
    }
    tracked.failures = 0;
    if (drift === undefined) {
      tracked.drift = undefined;
      ctx.publish(app);
      return;
    }
    decide(ctx, app, tracked, drift);
  } catch (error) {
    retryLater(ctx, app, tracked, `drift check failed: ${messageOf(error)}`);
  } finally {
    tracked.checking = false;
    if (tracked.recheck) {
      tracked.recheck = false;
      if (tracked.timer === undefined) scheduleCheck(ctx, app, tracked, ctx.tuning.driftDebounceMs);
    }
  }
}

function decide(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject, drift: DriftRecord): void {
  const now = ctx.clock.now();
  const { decision, state } = decideHeal(app.spec.syncPolicy.drift, tracked.heal, now, ctx.random01(), ctx.tuning.heal);
  tracked.heal = state;
  const paths = drift.fields.map((field) => field.path);
  switch (decision.kind) {
    case 'report':
      tracked.drift = { ...drift, note: drift.deleted ? 'deleted from the cluster' : undefined };
      ctx.publish(app);
      return;
    case 'heal':
      tracked.drift = { ...drift, note: drift.deleted ? 'deleted from the cluster; re-creating' : 'healing' };
      ctx.publish(app);
      tracked.timer?.cancel();
      tracked.timer = ctx.clock.setTimer(() => {
        tracked.timer = undefined;
        void heal(ctx, app, tracked);
      }, decision.atMs - now);
      return;
    case 'fight': {
      const note = describeFight(drift.managers, paths, decision.retryAtMs, now);
      const changed = tracked.drift?.note !== note;
      tracked.drift = { ...drift, note };
      if (changed) ctx.log.warn('drift fight; not healing for a while', { app: app.spec.appName, object: describeRef(tracked.desired.ref), managers: drift.managers, fields: paths });
      ctx.publish(app);
      scheduleCheck(ctx, app, tracked, decision.retryAtMs - now);
      return;
    }
  }
}

async function heal(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject): Promise<void> {
  if (!isWatched(ctx, app, tracked) || tracked.type === undefined) return;
  if (tracked.checking) {
    tracked.recheck = true;
    return;
  }
  tracked.checking = true;
  try {
    const result = await applyObject(ctx.client, tracked.type, tracked.desired.ref, tracked.desired.body, { force: true });
    if (!isWatched(ctx, app, tracked)) return;
    tracked.expected = result;
    tracked.live = newerObject(tracked.live, result);
    tracked.heal = recordHeal(tracked.heal, ctx.clock.now(), ctx.tuning.heal);
    tracked.failures = 0;
    ctx.log.info('healed drift', {
      app: app.spec.appName,
      object: describeRef(tracked.desired.ref),
      fields: tracked.drift?.fields.map((field) => field.path) ?? [],
    });
    tracked.drift = undefined;
    ctx.publish(app);
  } catch (error) {
    retryLater(ctx, app, tracked, `heal failed: ${messageOf(error)}`);
  } finally {
    tracked.checking = false;
    if (tracked.recheck) {
      tracked.recheck = false;
      if (tracked.timer === undefined) scheduleCheck(ctx, app, tracked, ctx.tuning.driftDebounceMs);
    }
  }
}

function retryLater(ctx: DriverContext, app: TrackedApp, tracked: TrackedObject, message: string): void {
  if (!isWatched(ctx, app, tracked)) return;
  const delayMs = nextBackoffMs(tracked.failures, ctx.random01(), ctx.tuning.driftRetry);
  tracked.failures += 1;
  if (tracked.drift !== undefined) {
    tracked.drift = { ...tracked.drift, note: message };
    ctx.publish(app);
  }
  ctx.log.debug('drift work failed; retrying', { app: app.spec.appName, object: describeRef(tracked.desired.ref), error: message, retryInMs: delayMs });
  scheduleCheck(ctx, app, tracked, delayMs);
}

/** The values of the drifted fields (read at their real paths), each under the path as reported (see redactSecretPaths). */
function valuesOf(app: TrackedApp, tracked: TrackedObject, fields: readonly DriftedField[], expected: unknown, live: unknown): DriftedValue[] {
  const shown = redactSecretPaths(fields, app.secretValues);
  return describeDriftValues({ ref: tracked.desired.ref, fields, declared: tracked.desired.declared, expected, live, secretValues: app.secretValues }).map((value, index) => ({
    ...value,
    path: shown[index]!.path,
  }));
}

// The live side only: the expected side of a recorded drift comes from a dry run, which the watch
// path does not repeat.
function sameLiveValues(a: readonly DriftedValue[], b: readonly DriftedValue[]): boolean {
  return a.length === b.length && a.every((value, index) => value.path === b[index]?.path && value.live === b[index]?.live && value.redacted === b[index]?.redacted);
}

function samePaths(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((path, index) => path === b[index]);
}

function versionNumber(object: KubeObject | undefined): bigint | undefined {
  const version = recordAt(object, 'metadata')?.['resourceVersion'];
  return typeof version === 'string' && /^\d{1,30}$/.test(version) ? BigInt(version) : undefined;
}
