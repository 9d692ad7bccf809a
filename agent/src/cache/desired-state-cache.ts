import { LIMITS } from '@flotilla/proto';
import type { Clock } from '../clock.js';
import { tombstonesToPrune, type AcceptedApp, type DesiredEntry, type ScopeSpec } from '../core/desired-state.js';
import type { Logger } from '../log.js';
import { FileStateStore, STATE_FILES, type StateStore } from './state-store.js';
import { WriteCoalescer } from './write-coalescer.js';

/** File name of the desired-state cache inside the state directory (with the file store). */
export const CACHE_FILE = STATE_FILES['desired-state'];
const FORMAT_VERSION = 1;

/** Settings of {@link DesiredStateCache.open}: a state directory (files) or any {@link StateStore}. */
export type CacheOptions = CacheCommonOptions & ({ readonly stateDir: string; readonly store?: undefined } | { readonly store: StateStore; readonly stateDir?: undefined });

interface CacheCommonOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** Most tombstones kept; the oldest removals are forgotten first. */
  readonly maxTombstones?: number;
}

/**
 * The last accepted desired state of every App (and the tombstones of removed Apps), in memory and in
 * a {@link StateStore}: `<stateDir>/desired-state.json` (mode 0600, replaced atomically on every
 * flush), or a Secret in the agent's namespace.
 *
 * Changes are made in memory with `set`/`delete` and made durable with `flush`, which group-commits:
 * callers that flush while a write is running share the next write, so a burst of N changes costs at
 * most two writes rather than N.
 */
export class DesiredStateCache {
  readonly #entries: Map<string, DesiredEntry>;
  readonly #store: StateStore;
  readonly #maxTombstones: number;
  readonly #writes = new WriteCoalescer(() => this.#write());

  private constructor(store: StateStore, entries: Map<string, DesiredEntry>, maxTombstones: number) {
    this.#store = store;
    this.#entries = entries;
    this.#maxTombstones = maxTombstones;
  }

  /**
   * Loads the cache from its store, creating the state directory (mode 0700) if needed. A missing
   * document is an empty cache. An unreadable or foreign one is moved aside (`.corrupt-<time>`) and
   * the cache starts empty: the hub then resends everything, which is safer than refusing to start.
   * Entries that do not parse are skipped with a warning. Throws when the store cannot be read at all.
   */
  static async open(options: CacheOptions): Promise<DesiredStateCache> {
    const store = options.store ?? new FileStateStore(options.stateDir);
    await store.init();
    const entries = new Map<string, DesiredEntry>();
    const text = await store.read('desired-state');
    if (text !== undefined) {
      const parsed = parseCacheFile(text);
      if (parsed === undefined) {
        const aside = await store.setAside('desired-state', String(options.clock.now()));
        options.log.warn('desired-state cache is unreadable; moved aside, starting empty', { file: aside ?? store.description });
      } else {
        for (const entry of parsed.entries) entries.set(entry.appName, entry);
        if (parsed.skipped > 0) options.log.warn('skipped malformed desired-state cache entries', { skipped: parsed.skipped });
      }
    }
    return new DesiredStateCache(store, entries, options.maxTombstones ?? LIMITS.maxInventoryApps);
  }

  /** The entry held for `appName`. */
  get(appName: string): DesiredEntry | undefined {
    return this.#entries.get(appName);
  }

  /** Every entry, sorted by App name. */
  entries(): DesiredEntry[] {
    return [...this.#entries.values()].sort((a, b) => (a.appName < b.appName ? -1 : a.appName > b.appName ? 1 : 0));
  }

  /** The accepted Apps (no tombstones), sorted by App name. */
  acceptedApps(): AcceptedApp[] {
    return this.entries().filter((entry): entry is AcceptedApp => entry.kind === 'app');
  }

  /** Number of accepted Apps held. */
  get appCount(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.kind === 'app') count += 1;
    return count;
  }

  /** Holds `entry` for its App in memory (call `flush` to make it durable); prunes old tombstones. */
  set(entry: DesiredEntry): void {
    this.#entries.set(entry.appName, entry);
    if (entry.kind === 'tombstone') {
      for (const name of tombstonesToPrune(this.#entries.values(), this.#maxTombstones)) this.#entries.delete(name);
    }
  }

  /** Forgets `appName` entirely (no tombstone) in memory. */
  delete(appName: string): void {
    this.#entries.delete(appName);
  }

  /** Resolves once everything recorded before this call is durable; rejects if that write fails. */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  async #write(): Promise<void> {
    // Serialise synchronously so that the snapshot is exactly the state at flush time.
    const text = serializeCache(this.entries());
    await this.#store.write('desired-state', text);
  }
}

type StoredSyncPolicy = {
  mode: number;
  drift: number;
  preserveResourcesOnDeletion: boolean;
  forceConflicts?: boolean;
  scope?: ScopeSpec;
  projectScope?: ScopeSpec;
};
type StoredEntry =
  | (Omit<AcceptedApp, 'generation' | 'syncPolicy'> & { generation: string; syncPolicy: StoredSyncPolicy })
  | { kind: 'tombstone'; appName: string; generation: string; preserveResources: boolean; removedAtUnixMs: number };

/** The file's JSON text for `entries` (generations as decimal strings, since JSON has no 64-bit ints). */
export function serializeCache(entries: readonly DesiredEntry[]): string {
  const stored: StoredEntry[] = entries.map((entry) => ({ ...entry, generation: entry.generation.toString() }));
  return `${JSON.stringify({ version: FORMAT_VERSION, entries: stored })}\n`;
}

/** Parses the file's text; `undefined` when it is not a cache file of this format version. */
export function parseCacheFile(text: string): { entries: DesiredEntry[]; skipped: number } | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(document) || document['version'] !== FORMAT_VERSION || !Array.isArray(document['entries'])) return undefined;
  const entries: DesiredEntry[] = [];
  let skipped = 0;
  for (const raw of document['entries']) {
    const entry = parseEntry(raw);
    if (entry === undefined) skipped += 1;
    else entries.push(entry);
  }
  return { entries, skipped };
}

function parseEntry(raw: unknown): DesiredEntry | undefined {
  if (!isRecord(raw) || typeof raw['appName'] !== 'string' || raw['appName'] === '') return undefined;
  const generation = typeof raw['generation'] === 'string' && /^\d{1,20}$/.test(raw['generation']) ? BigInt(raw['generation']) : undefined;
  if (generation === undefined) return undefined;
  if (raw['kind'] === 'tombstone') {
    if (typeof raw['preserveResources'] !== 'boolean' || typeof raw['removedAtUnixMs'] !== 'number') return undefined;
    return { kind: 'tombstone', appName: raw['appName'], generation, preserveResources: raw['preserveResources'], removedAtUnixMs: raw['removedAtUnixMs'] };
  }
  const policy = raw['syncPolicy'];
  if (
    raw['kind'] !== 'app' ||
    !isRecord(policy) ||
    typeof policy['mode'] !== 'number' ||
    typeof policy['drift'] !== 'number' ||
    typeof policy['preserveResourcesOnDeletion'] !== 'boolean'
  ) {
    return undefined;
  }
  const text = (key: string): string | undefined => (typeof raw[key] === 'string' ? raw[key] : undefined);
  const appSet = text('appSet');
  const revision = text('revision');
  const namespace = text('namespace');
  const manifestsJson = text('manifestsJson');
  if (appSet === undefined || revision === undefined || namespace === undefined || manifestsJson === undefined) return undefined;
  const scope = parseScope(policy['scope']);
  const projectScope = parseScope(policy['projectScope']);
  // A scope that does not parse would loosen what the App may do: the entry is dropped instead (the hub resends it).
  if (scope === 'invalid' || projectScope === 'invalid') return undefined;
  return {
    kind: 'app',
    appName: raw['appName'],
    appSet,
    revision,
    generation,
    namespace,
    manifestsJson,
    syncPolicy: {
      mode: policy['mode'],
      drift: policy['drift'],
      preserveResourcesOnDeletion: policy['preserveResourcesOnDeletion'],
      ...(policy['forceConflicts'] === true ? { forceConflicts: true } : {}),
      ...(scope ? { scope } : {}),
      ...(projectScope ? { projectScope } : {}),
    },
  };
}

/** A stored scope, or `undefined` when absent or malformed (malformed scopes make the entry invalid). */
function parseScope(raw: unknown): ScopeSpec | undefined | 'invalid' {
  if (raw === undefined) return undefined;
  const strings = (value: unknown): string[] | undefined =>
    Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  if (!isRecord(raw)) return 'invalid';
  const namespaces = strings(raw['namespaces']);
  const kinds = strings(raw['kinds']);
  if (namespaces === undefined || kinds === undefined || typeof raw['clusterScoped'] !== 'boolean') return 'invalid';
  return { namespaces, kinds, clusterScoped: raw['clusterScoped'] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
