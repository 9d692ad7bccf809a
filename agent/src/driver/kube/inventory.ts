import type { StateStore } from '../../cache/state-store.js';
import { isRecord } from '../../core/kube/object-ref.js';
import type { Logger } from '../../log.js';
import { WriteCoalescer } from '../../cache/write-coalescer.js';

/** The kinds (and namespaces) an App has had objects in: where prune and removal look for them. */
export interface AppInventory {
  /** `apiVersion Kind` pairs, sorted. */
  readonly kinds: readonly string[];
  /** Namespaces of the App's namespaced objects, sorted (used when listing cluster-wide is forbidden). */
  readonly namespaces: readonly string[];
}

const FORMAT_VERSION = 1;

/**
 * The driver's record of which kinds each App has used, kept in the agent's state store so that after
 * a restart prune and removal still find objects of kinds the new revision no longer declares (live
 * objects are found by label, but only kinds that are listed can be found). Written before any prune,
 * so that a crash between apply and prune loses nothing. Writes are group-committed.
 */
export class KubeInventory {
  readonly #store: StateStore;
  readonly #apps: Map<string, AppInventory>;
  readonly #writes = new WriteCoalescer(() => this.#write());

  private constructor(store: StateStore, apps: Map<string, AppInventory>) {
    this.#store = store;
    this.#apps = apps;
  }

  /** Loads the record; an unreadable one is set aside with a warning and the record starts empty. */
  static async open(store: StateStore, log: Logger, nowMs: number): Promise<KubeInventory> {
    await store.init();
    const text = await store.read('kube-inventory');
    const apps = new Map<string, AppInventory>();
    if (text !== undefined) {
      const parsed = parseInventory(text);
      if (parsed === undefined) {
        const aside = await store.setAside('kube-inventory', String(nowMs)).catch(() => undefined);
        log.warn('Kubernetes inventory record is unreadable; starting empty (objects of kinds no longer declared will not be pruned)', {
          file: aside ?? store.description,
        });
      } else {
        for (const [name, entry] of parsed) apps.set(name, entry);
      }
    }
    return new KubeInventory(store, apps);
  }

  get(appName: string): AppInventory | undefined {
    return this.#apps.get(appName);
  }

  /** Records `inventory` for the App (durable once `flush` resolves). */
  set(appName: string, inventory: AppInventory): void {
    this.#apps.set(appName, { kinds: [...new Set(inventory.kinds)].sort(), namespaces: [...new Set(inventory.namespaces)].sort() });
  }

  delete(appName: string): void {
    this.#apps.delete(appName);
  }

  /** Resolves once everything recorded before this call is durable; rejects if that write fails. */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  async #write(): Promise<void> {
    const apps = Object.fromEntries([...this.#apps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await this.#store.write('kube-inventory', `${JSON.stringify({ version: FORMAT_VERSION, apps })}\n`);
  }
}

function parseInventory(text: string): Map<string, AppInventory> | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(document) || document['version'] !== FORMAT_VERSION || !isRecord(document['apps'])) return undefined;
  const apps = new Map<string, AppInventory>();
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  for (const [name, entry] of Object.entries(document['apps'])) {
    if (!isRecord(entry)) continue;
    apps.set(name, { kinds: strings(entry['kinds']), namespaces: strings(entry['namespaces']) });
  }
  return apps;
}
