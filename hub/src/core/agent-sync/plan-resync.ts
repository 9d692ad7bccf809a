import { MAX_GENERATION, MAX_HELD_APP_NAME_CHARS } from './check-agent-message';

/** What the hub has released for one App on one cluster. `revision: null` is a released removal. */
export interface ReleasedApp {
  readonly appName: string;
  readonly revision: string | null;
  readonly generation: bigint;
}

/** What an agent says it holds (from Hello or Inventory). Nothing in it is trusted. */
export interface HeldApp {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
}

/** A RemoveApp to send: the App and the generation it carries. */
export interface PlannedRemoval {
  readonly appName: string;
  readonly generation: bigint;
}

/** A held App the hub answers with nothing, and why. */
export interface IgnoredApp {
  readonly appName: string;
  readonly reason: string;
}

/** The messages that bring an agent level with the hub. */
export interface ResyncPlan {
  /** Apps to send as DesiredApp (their current released state). */
  readonly send: readonly string[];
  /** Released removals the agent still holds: RemoveApp at the generation the hub released. */
  readonly remove: readonly PlannedRemoval[];
  /** Apps the agent holds that the hub releases nothing of there: RemoveApp one generation above the agent's. */
  readonly removeUnknown: readonly PlannedRemoval[];
  /** Held Apps no message can answer without the hub issuing a generation for the agent (see {@link planResync}). */
  readonly ignored: readonly IgnoredApp[];
  /** Released removals the agent no longer holds: their records can be forgotten. */
  readonly forget: readonly string[];
}

/**
 * Compares what the hub released to one cluster with what its agent holds and answers only with what
 * differs, deciding every generation from the hub's own records:
 *
 * - A released App is sent when the agent lacks it or holds anything but exactly the released revision
 *   at the released generation (a higher generation was never issued for it; the agent ignores the
 *   re-sent message, but the hub claims nothing it did not release).
 * - A released removal is sent at its generation while the agent holds the App, forgotten otherwise.
 * - An App the hub releases nothing of on that cluster (unknown, or released to another cluster only)
 *   is removed with a RemoveApp at the agent's generation + 1, the smallest the agent accepts. No
 *   generation is allocated for it: `highestIssued` is the highest generation the hub has issued (every
 *   later release takes a higher one), so below it the removal is older than any later release of the
 *   App and generations stay monotonic for the agent. At exactly `highestIssued` the App is left alone:
 *   that generation may be the hub's own, forgotten release of this App, and the next release (maybe of
 *   this very App, which the agent then accepts) would collide with a removal at + 1; once the hub has
 *   issued anything newer, a later resync removes it. Above it, the agent holds a number the hub never
 *   issued: the removal still goes at + 1, and only that cluster bears the cost (a later release of that
 *   App name there is older than what the agent holds until the hub's generations pass it). A generation
 *   at {@link MAX_GENERATION} or above cannot be out-numbered and is ignored, as is a name no agent may hold.
 *
 * A name listed twice counts once (its first entry). Never throws, never mutates its inputs; every list
 * is sorted by App name.
 */
export function planResync(released: readonly ReleasedApp[], held: readonly HeldApp[], highestIssued: bigint): ResyncPlan {
  const heldByName = new Map<string, HeldApp>();
  for (const mine of held) if (!heldByName.has(mine.appName)) heldByName.set(mine.appName, mine);
  const releasedNames = new Set<string>();
  const send: string[] = [];
  const remove: PlannedRemoval[] = [];
  const forget: string[] = [];
  for (const app of released) {
    releasedNames.add(app.appName);
    const mine = heldByName.get(app.appName);
    if (app.revision === null) {
      if (mine) remove.push({ appName: app.appName, generation: app.generation });
      else forget.push(app.appName);
    } else if (!mine || mine.revision !== app.revision || mine.generation !== app.generation) {
      send.push(app.appName);
    }
  }
  const removeUnknown: PlannedRemoval[] = [];
  const ignored: IgnoredApp[] = [];
  for (const mine of heldByName.values()) {
    if (releasedNames.has(mine.appName)) continue;
    const answer = answerUnknown(mine, highestIssued);
    if (answer.kind === 'remove') removeUnknown.push({ appName: mine.appName, generation: answer.generation });
    else ignored.push({ appName: mine.appName, reason: answer.reason });
  }
  return {
    send: send.sort(compareText),
    remove: remove.sort(byAppName),
    removeUnknown: removeUnknown.sort(byAppName),
    ignored: ignored.sort(byAppName),
    forget: forget.sort(compareText),
  };
}

function answerUnknown(mine: HeldApp, highestIssued: bigint): { kind: 'remove'; generation: bigint } | { kind: 'ignore'; reason: string } {
  if (mine.appName === '' || mine.appName.length > MAX_HELD_APP_NAME_CHARS) return { kind: 'ignore', reason: 'not an App name an agent may hold' };
  if (mine.generation >= MAX_GENERATION) return { kind: 'ignore', reason: 'generation beyond any the hub can issue' };
  if (mine.generation === highestIssued) return { kind: 'ignore', reason: 'generation is the newest the hub issued; removed once a newer one is issued' };
  return { kind: 'remove', generation: mine.generation + 1n };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byAppName(a: { readonly appName: string }, b: { readonly appName: string }): number {
  return compareText(a.appName, b.appName);
}
