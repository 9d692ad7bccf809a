/**
 * Rows of an `UPDATE`/`DELETE ... RETURNING` run through TypeORM's `query()`: the postgres driver
 * returns `[rows, affectedCount]` for those commands, but plain rows for SELECT and INSERT.
 */
export function returnedRows<T>(raw: unknown): T[] {
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') return raw[0] as T[];
  return raw as T[];
}
