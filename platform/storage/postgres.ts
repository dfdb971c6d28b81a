/**
 * PostgreSQL driver on `pg`. Transactions run on one pooled connection; the
 * repository locks the entity row (`SELECT … FOR UPDATE`) before counting its
 * tokens, so concurrent creates against one entity queue up behind the lock.
 */
import pg from 'pg';
import type { Row, SqlDriver, SqlTx } from './sql.ts';

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = 'FOR UPDATE';
  readonly pool: pg.Pool;

  constructor(connectionString: string, max = 10) {
    this.pool = new pg.Pool({ connectionString, max });
    // An idle client losing its connection must not crash the process.
    this.pool.on('error', () => {});
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(sql, params as unknown[]);
    return result.rows as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const result = await this.pool.query(sql, params as unknown[]);
    return result.rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // The pool only listens to idle clients: a connection lost while this one
    // is checked out would otherwise be an unhandled 'error' that ends the
    // process. The statement in flight fails with it anyway; the client is dropped.
    let broken = false;
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    const tx: SqlTx = {
      query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
        (await client.query(sql, params as unknown[])).rows as R[],
      run: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
    };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  isUniqueViolation(error: unknown): boolean {
    return (error as { code?: string } | null)?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
