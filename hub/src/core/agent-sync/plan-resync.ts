/** What the hub has released for one App on one cluster. `revision: null` is a released removal. */
export interface ReleasedApp {
  readonly appName: string;
  readonly revision: string | null;
  readonly generation: bigint;
}

/** What an agent says it holds (from Hello or Inventory). */
export interface HeldApp {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
}

/** The messages that bring an agent level with the hub. */
export interface ResyncPlan {
  /** Apps to send as DesiredApp (their current released state). */
  readonly send: readonly string[];
  /** Apps to send as RemoveApp; `generation` is null when the hub has no record and must allocate one. */
  readonly remove: readonly { readonly appName: string; readonly generation: bigint | null }[];
  /** Released removals the agent no longer holds: their records can be forgotten. */
  readonly forget: readonly string[];
}

/**
 * Compares what the hub released with what an agent holds and answers only with what differs.
 * An App is sent when the agent lacks it, holds another revision, or holds an older generation.
 * An App the agent holds but the hub does not release is removed. Output lists are sorted by name.
 */
export function planResync(released: readonly ReleasedApp[], held: readonly HeldApp[]): ResyncPlan {
  const heldByName = new Map(held.map((h) => [h.appName, h]));
  const releasedNames = new Set<string>();
  const send: string[] = [];
  const remove: { appName: string; generation: bigint | null }[] = [];
  const forget: string[] = [];
  for (const app of released) {
    releasedNames.add(app.appName);
    const mine = heldByName.get(app.appName);
    if (app.revision === null) {
      if (mine) remove.push({ appName: app.appName, generation: app.generation });
      else forget.push(app.appName);
    } else if (!mine || mine.revision !== app.revision || mine.generation < app.generation) {
      send.push(app.appName);
    }
  }
  for (const mine of held) {
    if (!releasedNames.has(mine.appName)) remove.push({ appName: mine.appName, generation: null });
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    send: send.sort(byName),
    remove: remove.sort((a, b) => byName(a.appName, b.appName)),
    forget: forget.sort(byName),
  };
}
