import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite), reachable by URL over a Unix socket only the hub's user can open. */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

/** The socket file's name: what libpq and `pg` look for in the folder given as `host`. */
const SOCKET_NAME = '.s.PGSQL.5432';
/** Longest Unix socket path Linux accepts (108 bytes with the terminating NUL), with a margin. */
const MAX_SOCKET_PATH_BYTES = 100;
/**
 * What PGlite and the hub keep at the top of the data folder: only these are changed or entered, so
 * that a data folder pointed at a folder holding other things never has those changed. The Git cache
 * keeps itself private.
 */
const POSTGRES_ENTRY = /^(admin-token|ca-encryption-key|PG_VERSION|base|global|pg_[a-z_]+(\.conf)?|postgresql(\.auto)?\.conf|postmaster\.(opts|pid))$/;
/** Most entries {@link tightenModes} visits in one pass. */
const MAX_ENTRIES = 100_000;
/** How long a connection attempt on a leftover socket may take before it counts as stale. */
const PROBE_TIMEOUT_MS = 2_000;

const log = new Logger('Database');

/**
 * Starts PGlite on `dataDir` and serves it over the PostgreSQL wire protocol so that the stock `pg`
 * driver and real, isolated transactions are used exactly as with an external PostgreSQL. Used when
 * no DATABASE_URL is configured.
 *
 * Nobody but the hub's user reaches it: pglite-socket has no authentication (PGlite accepts any
 * password), so it listens on a Unix socket inside the data folder, and the folder is 0700 with its
 * files 0600 and folders 0700. PGlite writes its files 0666 (its initial image is copied with
 * explicit modes, so a umask does not help): modes are tightened after it starts and again when it
 * stops. A data folder of an earlier version (0755, files 0666, TCP on loopback) is tightened at the
 * first start and the change logged. A data folder whose socket answers is in use by another process
 * and refused before PGlite opens it.
 */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const before = await tightenModes(dir).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`the data folder ${dir} cannot be made private to the hub's user (${error.code ?? error.message}): make that user its owner, or set FLOTILLA_DATA_DIR to a folder it owns`);
  });
  if (before.folders + before.files > 0) {
    log.warn(`tightened the data folder ${dir}: ${before.files} files to 0600 and ${before.folders} folders to 0700 (other users could read them)`);
  }
  const socketDir = Buffer.byteLength(join(dir, SOCKET_NAME)) <= MAX_SOCKET_PATH_BYTES ? dir : await mkdtemp(join(tmpdir(), 'flotilla-db-'));
  if (socketDir !== dir) log.log(`the data folder's path is too long for a Unix socket: the embedded database listens in ${socketDir} (mode 0700)`);
  const socketPath = join(socketDir, SOCKET_NAME);
  await removeStaleSocket(socketPath, dir);
  const db = await PGlite.create(dir);
  let server: PGLiteSocketServer | undefined;
  try {
    await tightenModes(dir);
    server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 32 });
    await server.start();
    await chmod(socketPath, 0o600);
  } catch (error) {
    await server?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
  const running = server;
  return {
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(socketDir)}`,
    async stop() {
      await running.stop();
      await db.close();
      await tightenModes(dir).catch(() => undefined);
      if (socketDir !== dir) await rm(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * Removes group and other access from `dir` and from PGlite's files and folders in it (files become
 * 0600, folders 0700), without following symlinks; returns how many entries it changed. Bounded by
 * {@link MAX_ENTRIES}.
 */
export async function tightenModes(dir: string): Promise<{ files: number; folders: number }> {
  const changed = { files: 0, folders: 0 };
  const pending = [dir];
  let visited = 0;
  while (pending.length > 0 && visited < MAX_ENTRIES) {
    const folder = pending.pop()!;
    visited++;
    const folderStat = await lstat(folder).catch(() => undefined);
    if (!folderStat?.isDirectory()) continue;
    if ((folderStat.mode & 0o077) !== 0) {
      await chmod(folder, 0o700);
      changed.folders++;
    }
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      if (folder === dir && !POSTGRES_ENTRY.test(entry.name)) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) {
        visited++;
        const { mode } = await stat(path).catch(() => ({ mode: 0 }));
        if ((mode & 0o077) !== 0) {
          await chmod(path, 0o600).catch(() => undefined);
          changed.files++;
        }
      }
    }
  }
  if (pending.length > 0) log.warn(`${dir} holds more than ${MAX_ENTRIES} entries: the modes of some were not checked`);
  return changed;
}

/** Deletes a socket file left by a hub that was killed; refuses when a live process still answers on it. */
async function removeStaleSocket(socketPath: string, dataDir: string): Promise<void> {
  const exists = await lstat(socketPath).then(
    (s) => s.isSocket(),
    () => false,
  );
  if (!exists) return;
  const answers = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path: socketPath });
    const done = (alive: boolean) => {
      probe.destroy();
      resolve(alive);
    };
    probe.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
  });
  if (answers) throw new Error(`the embedded database in ${dataDir} is in use by another process (its socket answers): stop that hub first, or set FLOTILLA_DATA_DIR to another folder`);
  await unlink(socketPath);
}
