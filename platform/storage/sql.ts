/**
 * The small SQL surface the repository needs, implemented once for SQLite
 * (node:sqlite) and once for PostgreSQL (pg). SQL is written once, with `$1`
 * placeholders; each driver adapts it.
 */
export type Row = Record<string, unknown>;

export interface SqlTx {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlDriver extends SqlTx {
  readonly dialect: 'sqlite' | 'postgres';
  /** `FOR UPDATE` on PostgreSQL; empty on SQLite, whose write transactions are serialised. */
  readonly forUpdate: string;
  /**
   * Runs `fn` in one write transaction: SQLite `BEGIN IMMEDIATE` (behind an
   * in-process mutex), PostgreSQL `BEGIN` on a dedicated pooled connection.
   * Commits when `fn` resolves, rolls back when it throws.
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  isUniqueViolation(error: unknown): boolean;
  close(): Promise<void>;
}

/** A promise-chain mutex: callers run one at a time, in arrival order. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
