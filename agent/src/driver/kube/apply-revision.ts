import { DriftPolicy, SyncMode } from '@flotilla/proto';
import { webhookServicesOf } from '../../core/health/index.js';
import { applyPhase, orderForApply } from '../../core/kube/apply-order.js';
import { kindScopeKey, prepareObjects, summarizeProblems, type DesiredObject } from '../../core/kube/desired-objects.js';
import { conflictsOfStatus, describeConflicts } from '../../core/kube/field-owners.js';
import { INITIAL_HEAL_STATE } from '../../core/kube/heal.js';
import { planHooks, type Hook } from '../../core/kube/hooks.js';
import { appOfObject, describeRef, objectKey, recordAt } from '../../core/kube/object-ref.js';
import { describeKept, planPrune } from '../../core/kube/prune.js';
import { checkScopes, describeScopeRefusals } from '../../core/kube/scope.js';
import { redactValues } from '../../core/kube/secret-references.js';
import type { AppSpec, DriverResult } from '../cluster-driver.js';
import type { ResourceType } from './discovery.js';
import { runHooks, type PreparedHook } from './hook-runner.js';
import { KubeApiError, messageOf } from './kube-client.js';
import { applyObject, deleteObject, listAppObjects, readObject, releaseObject, waitForEstablished } from './object-operations.js';
import { resolveSecretSources } from './secret-sources.js';
import type { DriverContext, TrackedApp, TrackedObject } from './tracked-app.js';
import { typeKey } from './watch-set.js';

/** The apply phase of ordinary objects (after CRDs and Namespaces): pre hooks run before it. */
const ORDINARY_PHASE = 2;

/**
 * Applies one revision of an App: discovery, preparation and the scope guard (the App's own scope and
 * its project's; any problem refuses the whole App before anything is written), then server-side apply
 * of every object in order (waiting for the App's CRDs to be Established before their custom
 * resources), then, only when every object was applied, the inventory record and the prune the sync
 * mode asks for.
 */
export async function applyRevision(ctx: DriverContext, app: TrackedApp, spec: AppSpec): Promise<DriverResult> {
  const { tuning } = ctx;
  // Values of resolved secret references: no message that reaches the hub may carry one.
  let secretValues: readonly string[] = [];
  const fail = (raw: string, retryAfterMs?: number): DriverResult => {
    const message = redactValues(raw, secretValues);
    app.phase = { kind: 'failed', message };
    app.complete = false;
    ctx.publish(app);
    return { kind: 'failed', message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  };

  const scopes = new Map<string, boolean>();
  try {
    for (const manifest of spec.manifests) {
      const apiVersion = manifest['apiVersion'];
      const kind = manifest['kind'];
      if (typeof apiVersion !== 'string' || typeof kind !== 'string' || scopes.has(kindScopeKey(apiVersion, kind))) continue;
      const type = await ctx.discovery.resolve(apiVersion, kind);
      if (type !== undefined) scopes.set(kindScopeKey(apiVersion, kind), type.namespaced);
    }
  } catch (error) {
    return fail(`cannot reach the Kubernetes API for discovery: ${messageOf(error)}`, tuning.transientRetryMs);
  }

  const prepared = prepareObjects({ appName: spec.appName, appSet: spec.appSet, namespace: spec.namespace }, spec.manifests, scopes);
  if (!prepared.ok) {
    app.objects = new Map();
    return fail(summarizeProblems(prepared.problems), prepared.unknownKinds.length > 0 ? tuning.fixableRetryMs : undefined);
  }
  const refusals = checkScopes(prepared.objects, { app: spec.syncPolicy.scope, project: spec.syncPolicy.projectScope }, spec.namespace);
  if (refusals.length > 0) {
    app.objects = new Map();
    return fail(describeScopeRefusals(refusals));
  }
  const resolved = await resolveSecretSources(ctx, spec, prepared.objects);
  if (resolved.kind === 'failed') {
    app.objects = new Map();
    return fail(resolved.message, resolved.retry === 'transient' ? tuning.transientRetryMs : tuning.fixableRetryMs);
  }
  secretValues = resolved.values;
  app.secretValues = resolved.values;

  // Hooks (flotilla.dev/phase) are applied and waited for before and after the ordinary objects, and
  // are neither tracked (health, drift, heal) nor pruned as ordinary objects.
  const hookPlan = planHooks(resolved.objects.map((desired) => desired.body));
  if (hookPlan.issues.length > 0) {
    app.objects = new Map();
    return fail(`the App's hooks are invalid: ${hookPlan.issues.slice(0, 3).join('; ')}${hookPlan.issues.length > 3 ? `; and ${hookPlan.issues.length - 3} more` : ''}`);
  }
  const prepareHook = (hook: Hook): PreparedHook => ({ hook, desired: resolved.objects[hook.index]! });
  const preHooks = hookPlan.pre.map(prepareHook);
  const postHooks = hookPlan.post.map(prepareHook);
  const hookIndexes = new Set([...hookPlan.pre, ...hookPlan.post].map((hook) => hook.index));
  const ordinary = resolved.objects.filter((_, index) => !hookIndexes.has(index));

  const previous = app.objects;
  app.objects = new Map(orderForApply(ordinary).map((desired) => [objectKey(desired.ref), trackedOf(desired, previous.get(objectKey(desired.ref)))]));
  app.phase = { kind: 'applying' };
  app.complete = false;
  app.note = '';
  // Listed while the rest applies, so the webhooks are judged by their services' endpoints by the end.
  ensureEndpointWatches(ctx, app);
  ctx.publish(app);

  // Under heal the declared fields win over hand edits, on apply as on heal (a heal is a forced apply):
  // a field another manager keeps changing shows up as a fight, not as a failed apply.
  const force = spec.syncPolicy.forceConflicts === true || spec.syncPolicy.drift === DriftPolicy.HEAL;
  const failures: string[] = [];
  let conflicted = false;
  let unreachable: string | undefined;
  // The pre hooks run once the App's CRDs and Namespaces are applied (a hook may live in the App's
  // namespace or be a custom resource of it, as with Helm's CRDs and --create-namespace), before
  // anything else. A failed pre hook fails the App and nothing more is applied.
  let preHooksDone = preHooks.length === 0;
  const runPreHooks = async (): Promise<DriverResult | undefined> => {
    preHooksDone = true;
    const pre = await runHooks(ctx, 'pre', preHooks, secretValues);
    return pre.kind === 'failed' ? fail(pre.message, pre.retryAfterMs) : undefined;
  };
  for (const tracked of app.objects.values()) {
    if (ctx.isClosed()) return { kind: 'failed', message: 'driver is closed' };
    const { ref, body, definedByCrd } = tracked.desired;
    if (!preHooksDone && applyPhase(ref) === ORDINARY_PHASE) {
      if (failures.length > 0) break; // a definition or namespace failed: no hook runs, nothing more is applied
      const failed = await runPreHooks();
      if (failed !== undefined) return failed;
    }
    const failObject = (raw: string): void => {
      const message = redactValues(raw, secretValues);
      tracked.state = { kind: 'failed', message };
      failures.push(`${describeRef(ref)}: ${message}`);
    };
    try {
      if (definedByCrd !== undefined) {
        const outcome = await waitForEstablished(ctx.client, ctx.discovery, ctx.clock, { name: definedByCrd, apiVersion: ref.apiVersion, kind: ref.kind }, {
          timeoutMs: tuning.crdEstablishTimeoutMs,
          pollMs: tuning.crdPollMs,
          isClosed: () => ctx.isClosed(),
        });
        if (outcome.kind === 'timeout') {
          failObject(outcome.message);
          continue;
        }
      }
      const type = await ctx.discovery.resolve(ref.apiVersion, ref.kind);
      if (type === undefined) {
        failObject(`the cluster serves no kind ${ref.kind} in ${ref.apiVersion}`);
        continue;
      }
      tracked.type = type;
      if (spec.syncPolicy.mode === SyncMode.CREATE_ONLY) {
        const existing = await readObject(ctx.client, type, ref);
        if (existing !== undefined) {
          tracked.state = { kind: 'applied' };
          tracked.createOnly = true;
          tracked.live = existing;
          continue;
        }
      }
      const result = await applyObject(ctx.client, type, ref, body, { force });
      tracked.state = { kind: 'applied' };
      tracked.expected = result;
      tracked.live = result;
      tracked.createOnly = spec.syncPolicy.mode === SyncMode.CREATE_ONLY;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409 && conflictsOfStatus(error.body).length > 0) {
        conflicted = true;
        failObject(`${describeConflicts(conflictsOfStatus(error.body))}; set syncPolicy.forceConflicts (or drift: heal) to take these fields`);
      } else if (error instanceof KubeApiError && error.isTransient) {
        // The API server is unreachable: stop here rather than fail every remaining object.
        unreachable = messageOf(error);
        break;
      } else {
        failObject(messageOf(error));
      }
    }
    ctx.publish(app);
  }
  if (!preHooksDone && failures.length === 0 && unreachable === undefined) {
    const failed = await runPreHooks();
    if (failed !== undefined) return failed;
  }
  ensureWatches(ctx, app);

  const total = app.objects.size;
  const applied = [...app.objects.values()].filter((tracked) => tracked.state.kind === 'applied').length;
  if (unreachable !== undefined) {
    return fail(`cannot reach the Kubernetes API (${applied} of ${total} objects applied): ${unreachable}`, tuning.transientRetryMs);
  }
  if (failures.length > 0) {
    const shown = failures.slice(0, 3).join('; ') + (failures.length > 3 ? `; and ${failures.length - 3} more` : '');
    // Conflicts, RBAC and admission refusals can be fixed in the cluster, so the caller tries again later.
    return fail(`${failures.length} of ${total} objects failed to apply: ${shown}`, conflicted ? tuning.conflictRetryMs : tuning.fixableRetryMs);
  }

  // Every object is applied. Record the kinds before any prune, so a crash in between loses nothing.
  // The hooks' kinds are recorded too: removing the App finds the hook objects that were kept.
  const current = inventoryOf(app, [...preHooks, ...postHooks]);
  const recorded = ctx.inventory.get(spec.appName);
  const kinds = [...new Set([...(recorded?.kinds ?? []), ...current.kinds])];
  const namespaces = [...new Set([...(recorded?.namespaces ?? []), ...current.namespaces])];
  ctx.inventory.set(spec.appName, { kinds, namespaces });
  await flushInventory(ctx);

  if (spec.syncPolicy.mode === SyncMode.SYNC) {
    try {
      // This revision's hooks are not pruned (those of earlier revisions that are still there are).
      const keep = new Set([...app.objects.keys(), ...[...preHooks, ...postHooks].map(({ desired }) => objectKey(desired.ref))]);
      const pruned = await prune(ctx, spec, kinds, namespaces, keep);
      if (pruned.failures.length > 0) {
        app.note = `prune incomplete: ${pruned.failures.slice(0, 3).join('; ')}`;
        return fail(app.note, tuning.transientRetryMs);
      }
      app.note = pruned.kept;
      ctx.inventory.set(spec.appName, { kinds: [...new Set([...current.kinds, ...pruned.keptKinds])], namespaces: current.namespaces });
      await flushInventory(ctx);
    } catch (error) {
      return fail(`cannot prune: ${messageOf(error)}`, tuning.transientRetryMs);
    }
  }
  if (postHooks.length > 0) {
    app.phase = { kind: 'applying', step: `running ${postHooks.length} post hook${postHooks.length === 1 ? '' : 's'}` };
    ctx.publish(app);
    const post = await runHooks(ctx, 'post', postHooks, secretValues);
    if (post.kind === 'failed') return fail(post.message, post.retryAfterMs);
  }
  app.phase = { kind: 'applied' };
  app.complete = true;
  ctx.publish(app);
  return { kind: 'done' };
}

/**
 * Removes an App from the cluster: deletes its live objects (found by label over every kind it has
 * used, in delete order), or with `preserve` strips the tracking labels and leaves them in place.
 * Namespaces that hold other Apps' objects are released rather than deleted.
 */
export async function removeApp(ctx: DriverContext, appName: string, app: TrackedApp | undefined, preserve: boolean): Promise<DriverResult> {
  const recorded = ctx.inventory.get(appName);
  const current = app !== undefined ? inventoryOf(app) : { kinds: [], namespaces: [] };
  const kinds = [...new Set([...(recorded?.kinds ?? []), ...current.kinds])];
  const namespaces = [...new Set([...(recorded?.namespaces ?? []), ...current.namespaces])];
  let failures: string[];
  try {
    const types = await resolveKinds(ctx, kinds);
    const listed = (await listAppObjects(ctx.client, types, appName, namespaces)).filter((object) => object.app === undefined || object.app === appName);
    const typeOf = new Map(listed.map((object) => [objectKey(object.ref), object.type]));
    failures = [];
    if (preserve) {
      for (const object of listed) {
        await releaseObject(ctx.client, object.type, object.ref).catch((error: unknown) => failures.push(`${describeRef(object.ref)}: ${messageOf(error)}`));
      }
    } else {
      const plan = planPrune({ appName, mode: SyncMode.SYNC, applyComplete: true, desired: new Set(), live: listed, namespacesUsedByOthers: namespacesUsedByOthers(ctx, appName) });
      for (const ref of plan.delete) {
        const type = typeOf.get(objectKey(ref));
        if (type === undefined) continue;
        await deleteObject(ctx.client, type, ref).catch((error: unknown) => failures.push(`${describeRef(ref)}: ${messageOf(error)}`));
      }
      for (const kept of plan.kept) {
        const type = typeOf.get(objectKey(kept.ref));
        if (type !== undefined) await releaseObject(ctx.client, type, kept.ref).catch(() => undefined);
      }
    }
  } catch (error) {
    return { kind: 'failed', message: `cannot remove App ${appName}: ${messageOf(error)}`, retryAfterMs: ctx.tuning.transientRetryMs };
  }
  if (failures.length > 0) {
    return { kind: 'failed', message: `cannot remove App ${appName}: ${failures.slice(0, 3).join('; ')}`, retryAfterMs: ctx.tuning.transientRetryMs };
  }
  ctx.inventory.delete(appName);
  await flushInventory(ctx);
  return { kind: 'done' };
}

/** Starts (or keeps) the watches of every resource type the App's objects use. */
export function ensureWatches(ctx: DriverContext, app: TrackedApp): void {
  const byType = new Map<string, { type: ResourceType; namespaces: Set<string> }>();
  for (const tracked of app.objects.values()) {
    if (tracked.type === undefined) continue;
    const key = typeKey(tracked.type);
    const entry = byType.get(key) ?? { type: tracked.type, namespaces: new Set<string>() };
    if (tracked.desired.ref.namespace !== '') entry.namespaces.add(tracked.desired.ref.namespace);
    byType.set(key, entry);
  }
  for (const { type, namespaces } of byType.values()) ctx.watches.ensure(app.spec.appName, type, namespaces);
  ctx.watches.release(app.spec.appName, new Set(byType.keys()));
}

/** Watches the endpoints of the Services the App's webhook configurations call (and no others). */
function ensureEndpointWatches(ctx: DriverContext, app: TrackedApp): void {
  const services = new Map<string, { namespace: string; name: string }>();
  for (const tracked of app.objects.values()) {
    for (const service of webhookServicesOf(tracked.desired.body)) services.set(`${service.namespace}/${service.name}`, service);
  }
  ctx.endpoints.ensure(app.spec.appName, [...services.values()]);
}

async function prune(
  ctx: DriverContext,
  spec: AppSpec,
  kinds: readonly string[],
  namespaces: readonly string[],
  desired: ReadonlySet<string>,
): Promise<{ failures: string[]; kept: string; keptKinds: string[] }> {
  const types = await resolveKinds(ctx, kinds);
  const listed = await listAppObjects(ctx.client, types, spec.appName, namespaces);
  const plan = planPrune({
    appName: spec.appName,
    mode: spec.syncPolicy.mode,
    applyComplete: true,
    desired,
    live: listed,
    namespacesUsedByOthers: namespacesUsedByOthers(ctx, spec.appName),
  });
  const typeOf = new Map(listed.map((object) => [objectKey(object.ref), object.type]));
  const failures: string[] = [];
  for (const ref of plan.delete) {
    const type = typeOf.get(objectKey(ref));
    if (type === undefined) continue;
    try {
      await deleteObject(ctx.client, type, ref);
      ctx.log.info('pruned', { app: spec.appName, object: describeRef(ref) });
    } catch (error) {
      failures.push(`${describeRef(ref)}: ${messageOf(error)}`);
    }
  }
  const keptKinds = plan.kept.map((entry) => kindScopeKey(entry.ref.apiVersion, entry.ref.kind));
  return { failures, kept: plan.kept.length > 0 ? `kept ${describeKept(plan.kept)}` : '', keptKinds };
}

async function resolveKinds(ctx: DriverContext, kinds: readonly string[]): Promise<ResourceType[]> {
  const types: ResourceType[] = [];
  for (const key of kinds) {
    const [apiVersion, kind] = key.split(' ');
    if (apiVersion === undefined || kind === undefined) continue;
    const type = await ctx.discovery.resolve(apiVersion, kind);
    // A kind the cluster no longer serves has no objects left to find.
    if (type !== undefined) types.push(type);
  }
  return types;
}

// Namespaces holding objects of other Apps: what the other Apps declare, and what the watches see.
function namespacesUsedByOthers(ctx: DriverContext, appName: string): Set<string> {
  const namespaces = new Set<string>();
  for (const [name, other] of ctx.apps) {
    if (name === appName) continue;
    for (const tracked of other.objects.values()) if (tracked.desired.ref.namespace !== '') namespaces.add(tracked.desired.ref.namespace);
  }
  for (const object of ctx.watches.objects()) {
    const owner = appOfObject(object);
    const namespace = recordAt(object, 'metadata')?.['namespace'];
    if (owner !== undefined && owner !== appName && typeof namespace === 'string' && namespace !== '') namespaces.add(namespace);
  }
  return namespaces;
}

function inventoryOf(app: TrackedApp, hooks: readonly PreparedHook[] = []): { kinds: string[]; namespaces: string[] } {
  const kinds = new Set<string>();
  const namespaces = new Set<string>();
  for (const { desired } of [...app.objects.values(), ...hooks]) {
    kinds.add(kindScopeKey(desired.ref.apiVersion, desired.ref.kind));
    if (desired.ref.namespace !== '') namespaces.add(desired.ref.namespace);
  }
  return { kinds: [...kinds], namespaces: [...namespaces] };
}

async function flushInventory(ctx: DriverContext): Promise<void> {
  try {
    await ctx.inventory.flush();
  } catch (error) {
    // Prune still works from memory; only a restart before the next successful write would miss kinds.
    ctx.log.error('could not write the Kubernetes inventory record', { error: messageOf(error) });
  }
}

function trackedOf(desired: DesiredObject, previous: TrackedObject | undefined): TrackedObject {
  return {
    desired,
    type: previous?.type,
    state: { kind: 'pending' },
    expected: undefined,
    // Keep what was last seen, so that health does not flicker to MISSING while the apply runs.
    live: previous?.live,
    createOnly: false,
    drift: undefined,
    heal: INITIAL_HEAL_STATE,
    timer: undefined,
    checking: false,
    recheck: false,
    failures: 0,
  };
}
