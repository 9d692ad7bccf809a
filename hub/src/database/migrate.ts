import type { DataSource } from 'typeorm';

/** Arbitrary constant naming the advisory lock that serialises migrations across hub replicas. */
const MIGRATION_LOCK_KEY = 7_246_311_001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so that several replicas booting
 * at once migrate exactly once. Returns the names of the migrations that ran.
 */
export async function migrate(dataSource: DataSource, options: { lock: boolean } = { lock: true }): Promise<string[]> {
  if (!options.lock) return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
