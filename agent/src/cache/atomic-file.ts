import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Mode of every file the agent stores: owner read/write only (it may hold a credential). */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of the state directory: owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `dir` (and parents) with owner-only permissions if it does not exist. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Replaces `path` with `data` atomically: a reader sees the old file or the new one, never a torn
 * write, even if the process dies midway. Writes a sibling temporary file (mode 0600), flushes it to
 * disk, then renames it over `path`. The temporary file is removed on failure.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(temporary, 'wx', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The umask can only narrow the mode given to open; chmod makes it exactly 0600 regardless.
    await chmod(temporary, PRIVATE_FILE_MODE);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

// Persists the rename itself. Best effort: some platforms and file systems cannot open a directory.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file content is already durable; only the rename's durability is weaker here.
  }
}

/** True for a "no such file" error. */
export function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
