import { judgeResource } from '../../core/health/index.js';
import type { DesiredObject } from '../../core/kube/desired-objects.js';
import { deleteAfter, deleteBefore, hookState, hookWaitOutcome, type Hook, type HookPhase } from '../../core/kube/hooks.js';
import { describeRef } from '../../core/kube/object-ref.js';
import { redactValues } from '../../core/kube/secret-references.js';
import type { ResourceType } from './discovery.js';
import { KubeApiError, messageOf } from './kube-client.js';
import { applyObject, deleteObject, readObject } from './object-operations.js';
import type { DriverContext } from './tracked-app.js';

/** A hook of the App with its prepared object (tracking labels and namespace filled in, secrets resolved). */
export interface PreparedHook {
  readonly hook: Hook;
  readonly desired: DesiredObject;
}

export type HookRunOutcome = { readonly kind: 'done' } | { readonly kind: 'failed'; readonly message: string; readonly retryAfterMs?: number };

/**
 * Runs the hooks of one phase in order (see core/kube/hooks.ts): for each, deletes the previous object
 * under `before-hook-creation` (and waits until it is gone), applies it, waits until it succeeds or
 * fails (health rules; at most `hookTimeoutMs`), then deletes it when its delete policy says so. The
 * first hook that fails ends the phase: the App fails and no later hook runs. A hook that failed is
 * not retried (a retry would run a failed migration again): a new revision is; an unreachable API
 * server is retried.
 */
export async function runHooks(ctx: DriverContext, phase: HookPhase, hooks: readonly PreparedHook[], secretValues: readonly string[]): Promise<HookRunOutcome> {
  for (const { hook, desired } of hooks) {
    if (ctx.isClosed()) return { kind: 'failed', message: 'driver is closed' };
    const { ref, body } = desired;
    const name = `${phase} hook ${describeRef(ref)}`;
    try {
      const type = await ctx.discovery.resolve(ref.apiVersion, ref.kind);
      if (type === undefined) return { kind: 'failed', message: `${name}: the cluster serves no kind ${ref.kind} in ${ref.apiVersion}`, retryAfterMs: ctx.tuning.fixableRetryMs };
      if (deleteBefore(hook)) {
        await deleteObject(ctx.client, type, ref);
        const gone = await waitUntilGone(ctx, type, desired);
        if (!gone) return { kind: 'failed', message: `${name}: its previous object was not gone ${Math.round(ctx.tuning.hookTimeoutMs / 1000)}s after its deletion`, retryAfterMs: ctx.tuning.fixableRetryMs };
      }
      await applyObject(ctx.client, type, ref, body, { force: true });
      const waited = await waitForHook(ctx, type, desired);
      // A hook that did not finish in time failed, for its delete policy too.
      if (deleteAfter(hook, waited.state === 'succeeded' ? 'succeeded' : 'failed')) await deleteObject(ctx.client, type, ref);
      if (waited.state === 'timed-out') return { kind: 'failed', message: `${name} did not finish within ${Math.round(ctx.tuning.hookTimeoutMs / 1000)}s: ${redactValues(waited.message, secretValues)}` };
      if (waited.state === 'failed') return { kind: 'failed', message: `${name} failed: ${redactValues(waited.message, secretValues)}` };
      ctx.log.info('hook succeeded', { phase, object: describeRef(ref) });
    } catch (error) {
      const message = `${name}: ${redactValues(messageOf(error), secretValues)}`;
      return error instanceof KubeApiError && error.isTransient ? { kind: 'failed', message, retryAfterMs: ctx.tuning.transientRetryMs } : { kind: 'failed', message, retryAfterMs: ctx.tuning.fixableRetryMs };
    }
  }
  return { kind: 'done' };
}

/** Polls the hook's live object until the health rules call it succeeded or failed, or the timeout passes. Bounded: one GET per `hookPollMs`. */
async function waitForHook(ctx: DriverContext, type: ResourceType, desired: DesiredObject): Promise<{ state: 'succeeded' | 'failed' | 'timed-out'; message: string }> {
  const deadline = ctx.clock.now() + ctx.tuning.hookTimeoutMs;
  const polls = Math.ceil(ctx.tuning.hookTimeoutMs / Math.max(1, ctx.tuning.hookPollMs)) + 1;
  let message = 'not found';
  for (let poll = 0; poll < polls; poll++) {
    if (ctx.isClosed()) return { state: 'timed-out', message: 'driver closed' };
    const live = await readObject(ctx.client, type, desired.ref);
    const judgement = live === undefined ? undefined : judgeResource(live, ctx.clock.now());
    message = judgement?.message ?? 'not found';
    const outcome = hookWaitOutcome(judgement === undefined ? 'running' : hookState(judgement.health), ctx.clock.now(), deadline);
    if (outcome !== 'running') return { state: outcome, message };
    await new Promise<void>((resolve) => ctx.clock.setTimer(resolve, ctx.tuning.hookPollMs));
  }
  return { state: 'timed-out', message };
}

/** Polls until the object is gone (its finalizers done); false at the timeout. */
async function waitUntilGone(ctx: DriverContext, type: ResourceType, desired: DesiredObject): Promise<boolean> {
  const polls = Math.ceil(ctx.tuning.hookTimeoutMs / Math.max(1, ctx.tuning.hookPollMs)) + 1;
  for (let poll = 0; poll < polls; poll++) {
    if ((await readObject(ctx.client, type, desired.ref)) === undefined) return true;
    if (ctx.isClosed()) return false;
    await new Promise<void>((resolve) => ctx.clock.setTimer(resolve, ctx.tuning.hookPollMs));
  }
  return false;
}
