import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';

/** File name of the durable agent credential inside the state directory. */
export const CREDENTIAL_FILE = 'credential';

/**
 * The durable agent credential the hub returns in Welcome, stored as `<stateDir>/credential`
 * (mode 0600, written atomically). The value is never logged.
 */
export class CredentialStore {
  readonly #path: string;
  readonly #stateDir: string;

  constructor(stateDir: string) {
    this.#stateDir = stateDir;
    this.#path = join(stateDir, CREDENTIAL_FILE);
  }

  /** The stored credential, or `undefined` when none is stored (or the file is empty). */
  async read(): Promise<string | undefined> {
    try {
      const text = (await readFile(this.#path, 'utf8')).trim();
      return text === '' ? undefined : text;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Stores `credential`, replacing any previous one. Resolves once it is durable. */
  async write(credential: string): Promise<void> {
    await ensurePrivateDir(this.#stateDir);
    await writeFileAtomic(this.#path, `${credential}\n`);
  }
}

/** True for a "no such file" error. */
export function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
