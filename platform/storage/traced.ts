/**
 * A driver whose transactions and statements (those inside a transaction too)
 * are client spans (core/tracing.ts), a statement named by its first keyword:
 * what a trace shows under a request's server span. Used only when traces are
 * wanted; parameters never go into a span.
 */
import type { Attributes } from '@opentelemetry/api';
import { inSpan, SpanKind } from '../../core/tracing.ts';
import type { Row, SqlDriver, SqlTx } from './sql.ts';

export function traced(db: SqlDriver): SqlDriver {
  const system = db.dialect === 'postgres' ? 'postgresql' : 'sqlite';
  const statement = <T>(sql: string, fn: () => Promise<T>) => {
    const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
    const attributes: Attributes = { 'db.system.name': system, 'db.operation.name': operation };
    return inSpan(`${operation} ${system}`, attributes, fn, SpanKind.CLIENT);
  };
  const statements = (q: SqlTx): SqlTx => ({
    query: <T extends Row = Row>(sql: string, params?: readonly unknown[]) =>
      statement(sql, () => q.query<T>(sql, params)),
    run: (sql, params) => statement(sql, () => q.run(sql, params)),
  });
  return {
    ...statements(db),
    dialect: db.dialect,
    forUpdate: db.forUpdate,
    transaction: (fn) =>
      inSpan(
        `transaction ${system}`,
        { 'db.system.name': system },
        () => db.transaction((tx) => fn(statements(tx))),
        SpanKind.CLIENT,
      ),
    isUniqueViolation: (error) => db.isUniqueViolation(error),
    close: () => db.close(),
  };
}
