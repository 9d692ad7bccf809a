import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, isMissing, writeFileAtomic } from './atomic-file.js';

/**
 * Where the agent keeps what must survive its restart: the desired-state cache, the credential, and
 * the Kubernetes driver's inventory. A port with two implementations: files in the state directory
 * ({@link FileStateStore}) and Secrets in the agent's namespace (`SecretStateStore`), so that an agent
 * in a pod without a persistent volume still restarts with its state.
 */

/** The documents the agent stores. */
export type StateKey = 'desired-state' | 'credential' | 'kube-inventory' | 'nats-identity' | 'client-identity';

/** A store of small text documents, each replaced as a whole. */
export interface StateStore {
  /** Where the documents live, for logs and messages (`directory ./state`, `Secrets in namespace x`). */
  readonly description: string;
  /** Prepares the store (creates the directory); called once before anything else. */
  init(): Promise<void>;
  /** The document, or undefined when none is stored. Throws when the store cannot be read. */
  read(key: StateKey): Promise<string | undefined>;
  /** Replaces the document; resolves once it is durable. A reader sees the old or the new one, never a mix. */
  write(key: StateKey, text: string): Promise<void>;
  /**
   * Moves an unreadable document out of the way so that the next write starts afresh; returns where
   * it went (undefined when the store keeps no copy).
   */
  setAside(key: StateKey, suffix: string): Promise<string | undefined>;
}

/** File names of the documents in the state directory (kept from before the store existed). */
export const STATE_FILES: Readonly<Record<StateKey, string>> = {
  'desired-state': 'desired-state.json',
  credential: 'credential',
  'kube-inventory': 'kube-inventory.json',
  'nats-identity': 'nats-identity.json',
  'client-identity': 'client-identity.json',
};

/** Documents as files in `stateDir` (created mode 0700; files mode 0600, replaced atomically). */
export class FileStateStore implements StateStore {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = stateDir;
  }

  get description(): string {
    return `directory ${this.#dir}`;
  }

  async init(): Promise<void> {
    await ensurePrivateDir(this.#dir);
  }

  async read(key: StateKey): Promise<string | undefined> {
    try {
      return await readFile(join(this.#dir, STATE_FILES[key]), 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async write(key: StateKey, text: string): Promise<void> {
    await ensurePrivateDir(this.#dir);
    await writeFileAtomic(join(this.#dir, STATE_FILES[key]), text);
  }

  async setAside(key: StateKey, suffix: string): Promise<string | undefined> {
    const path = join(this.#dir, STATE_FILES[key]);
    const aside = `${path}.corrupt-${suffix}`;
    await rename(path, aside);
    return aside;
  }
}
