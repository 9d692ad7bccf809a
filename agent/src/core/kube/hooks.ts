import { Health } from '@flotilla/proto';
import type { Manifest } from '../desired-state.js';

/**
 * Hooks as apply phases. An object annotated `flotilla.dev/phase: pre` is a pre hook: the pre hooks
 * are applied after the App's CustomResourceDefinitions and Namespaces (which a hook may need, as
 * Helm installs CRDs and creates the namespace first) and before anything else, and waited for (a Job until it completes, any other
 * kind until the agent's health rules judge it HEALTHY); then the App's ordinary objects; then the
 * `post` hooks, waited for the same way. A failed pre hook fails the App and nothing else is applied.
 * (The hub turns Helm's `pre-install`/`pre-upgrade` and `post-install`/`post-upgrade` hooks into these
 * phases; test hooks never reach an agent.)
 *
 * `helm.sh/hook-delete-policy` (comma-separated) says what happens to a hook object:
 * `before-hook-creation` deletes the previous one before applying (Helm's default, used when the
 * annotation is absent), `hook-succeeded` deletes it after it succeeded, `hook-failed` after it
 * failed. Within a phase, `helm.sh/hook-weight` orders hooks (lower first, default 0), then their
 * position in the App's manifests. Hook objects are not pruned as ordinary objects and not healed.
 */

export const PHASE_ANNOTATION = 'flotilla.dev/phase';
export const DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';
export const WEIGHT_ANNOTATION = 'helm.sh/hook-weight';

export const HOOK_PHASES = ['pre', 'post'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

export const DELETE_POLICIES = ['before-hook-creation', 'hook-succeeded', 'hook-failed'] as const;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];

/** A hook object of an App, with what its annotations say. */
export interface Hook {
  readonly phase: HookPhase;
  readonly manifest: Manifest;
  /** Position in the App's manifests. */
  readonly index: number;
  readonly weight: number;
  /** Sorted, without duplicates; `['before-hook-creation']` when the annotation is absent. */
  readonly deletePolicies: readonly DeletePolicy[];
}

/** An App's manifests split into phases. `issues` (sorted) refuse the App whole. */
export interface HookPlan {
  /** In the order they are applied and waited for. */
  readonly pre: readonly Hook[];
  /** The ordinary objects, in manifest order. */
  readonly main: readonly Manifest[];
  readonly post: readonly Hook[];
  readonly issues: readonly string[];
}

/** Most hooks of one App (each is waited for in turn). */
export const MAX_HOOKS = 64;

/** Splits an App's manifests into pre hooks, ordinary objects and post hooks. */
export function planHooks(manifests: readonly Manifest[]): HookPlan {
  const hooks: Hook[] = [];
  const main: Manifest[] = [];
  const issues: string[] = [];
  manifests.forEach((manifest, index) => {
    const annotations = annotationsOf(manifest);
    const phaseText = annotations[PHASE_ANNOTATION];
    if (phaseText === undefined) {
      main.push(manifest);
      return;
    }
    const where = describeManifest(manifest, index);
    const phase = HOOK_PHASES.find((p) => p === phaseText);
    if (phase === undefined) {
      issues.push(`${where}: ${PHASE_ANNOTATION} must be one of ${HOOK_PHASES.join(', ')}; got "${String(phaseText).slice(0, 64)}"`);
      return;
    }
    const policies = parseDeletePolicies(annotations[DELETE_POLICY_ANNOTATION]);
    if (!policies.ok) issues.push(`${where}: ${policies.problem}`);
    const weight = parseWeight(annotations[WEIGHT_ANNOTATION]);
    if (weight === undefined) issues.push(`${where}: ${WEIGHT_ANNOTATION} must be an integer; got "${String(annotations[WEIGHT_ANNOTATION]).slice(0, 64)}"`);
    hooks.push({ phase, manifest, index, weight: weight ?? 0, deletePolicies: policies.ok ? policies.policies : [] });
  });
  if (hooks.length > MAX_HOOKS) issues.push(`the App has ${hooks.length} hook objects, over the limit of ${MAX_HOOKS}`);
  const ordered = (phase: HookPhase) => hooks.filter((h) => h.phase === phase).sort((a, b) => a.weight - b.weight || a.index - b.index);
  return { pre: ordered('pre'), main, post: ordered('post'), issues: issues.sort() };
}

function parseDeletePolicies(text: string | undefined): { ok: true; policies: DeletePolicy[] } | { ok: false; problem: string } {
  if (text === undefined || text.trim() === '') return { ok: true, policies: ['before-hook-creation'] };
  const policies = new Set<DeletePolicy>();
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const policy = DELETE_POLICIES.find((p) => p === entry);
    if (policy === undefined) return { ok: false, problem: `${DELETE_POLICY_ANNOTATION} entries must be ${DELETE_POLICIES.join(', ')}; got "${entry.slice(0, 64)}"` };
    policies.add(policy);
  }
  return { ok: true, policies: [...policies].sort() };
}

function parseWeight(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return 0;
  return /^[-+]?\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

function annotationsOf(manifest: Manifest): Record<string, string | undefined> {
  const metadata = manifest['metadata'];
  if (typeof metadata !== 'object' || metadata === null) return {};
  const annotations = (metadata as Record<string, unknown>)['annotations'];
  if (typeof annotations !== 'object' || annotations === null) return {};
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(annotations)) if (typeof value === 'string') out[key] = value;
  return out;
}

function describeManifest(manifest: Manifest, index: number): string {
  const kind = typeof manifest['kind'] === 'string' ? manifest['kind'] : 'object';
  const metadata = manifest['metadata'];
  const name = typeof metadata === 'object' && metadata !== null && typeof (metadata as Record<string, unknown>)['name'] === 'string' ? (metadata as Record<string, string>)['name'] : '';
  return `manifest ${index} (${kind} ${name.slice(0, 63)})`;
}

/** Where a hook stands, from its live object's health judgement. */
export type HookState = 'running' | 'succeeded' | 'failed';

/**
 * A hook's state from the agent's judgement of its live object: HEALTHY is success (for a Job: it
 * completed), DEGRADED is failure (a Job that failed, a Pod that crashed), anything else is still
 * running; `missing` (the object is not there, e.g. deleted by someone) is still running, since its
 * apply is what the driver retries. The caller bounds the wait with {@link hookWaitOutcome}.
 */
export function hookState(health: Health): HookState {
  if (health === Health.HEALTHY) return 'succeeded';
  if (health === Health.DEGRADED) return 'failed';
  return 'running';
}

/** What the driver does with a hook after its wait: delete it or keep it, per its delete policies. */
export function deleteAfter(hook: Pick<Hook, 'deletePolicies'>, state: Exclude<HookState, 'running'>): boolean {
  return hook.deletePolicies.includes(state === 'succeeded' ? 'hook-succeeded' : 'hook-failed');
}

/** Whether the previous object of a hook is deleted before it is applied again. */
export function deleteBefore(hook: Pick<Hook, 'deletePolicies'>): boolean {
  return hook.deletePolicies.includes('before-hook-creation');
}

/**
 * The outcome of waiting for a hook: its state, or `timed-out` (a failure) once `deadlineMs` passed
 * while it was still running. Pure: `nowMs` is an argument.
 */
export function hookWaitOutcome(state: HookState, nowMs: number, deadlineMs: number): HookState | 'timed-out' {
  if (state !== 'running') return state;
  return nowMs >= deadlineMs ? 'timed-out' : 'running';
}
