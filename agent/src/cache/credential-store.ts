import { FileStateStore, type StateStore } from './state-store.js';

export { isMissing } from './atomic-file.js';

/** File name of the durable agent credential inside the state directory. */
export const CREDENTIAL_FILE = 'credential';

/**
 * The durable agent credential the hub returns in Welcome, kept in a {@link StateStore}: by default
 * `<stateDir>/credential` (mode 0600, written atomically), or a Secret in the agent's namespace. The
 * value is never logged.
 */
export class CredentialStore {
  readonly #store: StateStore;

  /** `store`: a state store, or a state directory (files). */
  constructor(store: StateStore | string) {
    this.#store = typeof store === 'string' ? new FileStateStore(store) : store;
  }

  /** The stored credential, or `undefined` when none is stored (or it is empty). */
  async read(): Promise<string | undefined> {
    const text = (await this.#store.read('credential'))?.trim();
    return text === undefined || text === '' ? undefined : text;
  }

  /** Stores `credential`, replacing any previous one. Resolves once it is durable. */
  async write(credential: string): Promise<void> {
    await this.#store.write('credential', `${credential}\n`);
  }
}
