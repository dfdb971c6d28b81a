/**
 * SQLite driver on node:sqlite (built into Node 24, no native addon).
 *
 * Two connections on one WAL database file: a writer, used only inside
 * transactions that an in-process mutex serialises and that start with
 * `BEGIN IMMEDIATE` (so the write lock is taken before the first read and the
 * quota check can never race), and a reader for everything outside
 * transactions, which in WAL mode sees only committed data.
 */
import { chmodSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Mutex, type Row, type SqlDriver, type SqlTx } from './sql.ts';

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  readonly #writer: DatabaseSync;
  readonly #reader: DatabaseSync;
  readonly #mutex = new Mutex();
  readonly #writerStatements = new Map<string, StatementSync>();
  readonly #readerStatements = new Map<string, StatementSync>();
  #closed = false;

  constructor(path: string) {
    this.#writer = new DatabaseSync(path, { timeout: 5000 });
    // The file holds digests and sealed values: readable by this user only.
    if (path !== ':memory:') chmodSync(path, 0o600);
    this.#writer.exec('PRAGMA journal_mode = WAL');
    this.#writer.exec('PRAGMA synchronous = NORMAL');
    // A statement that may fail halfway inside a transaction (a multi-row
    // insert with ON CONFLICT) keeps a statement journal: a new temporary
    // file each time unless in memory — open, write, unlink per commit.
    this.#writer.exec('PRAGMA temp_store = MEMORY');
    this.#writer.exec('PRAGMA foreign_keys = ON');
    this.#reader = new DatabaseSync(path, { timeout: 5000 });
    this.#reader.exec('PRAGMA foreign_keys = ON');
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#statement(this.#reader, this.#readerStatements, sql).all(
      ...toSqlite(params),
    ) as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      if (this.#closed) throw new Error('database is closed');
      const tx: SqlTx = {
        query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
          this.#statement(this.#writer, this.#writerStatements, sql).all(
            ...toSqlite(params),
          ) as R[],
        run: async (sql, params = []) =>
          Number(
            this.#statement(this.#writer, this.#writerStatements, sql).run(...toSqlite(params))
              .changes,
          ),
      };
      this.#writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.#writer.exec('COMMIT');
        return result;
      } catch (error) {
        this.#writer.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** Runs a multi-statement script (migrations) on the writer. */
  exec(sql: string): void {
    this.#writer.exec(sql);
  }

  isUniqueViolation(error: unknown): boolean {
    return error instanceof Error && /UNIQUE constraint failed/.test(error.message);
  }

  async close(): Promise<void> {
    await this.#mutex.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#reader.close();
      this.#writer.close();
    });
  }

  #statement(db: DatabaseSync, cache: Map<string, StatementSync>, sql: string): StatementSync {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      cache.set(sql, statement);
    }
    return statement;
  }
}

function toSqlite(params: readonly unknown[]): SQLInputValue[] {
  return params.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    return p as SQLInputValue;
  });
}
