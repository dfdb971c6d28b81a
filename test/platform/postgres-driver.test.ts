/**
 * The PostgreSQL driver when the database drops a connection in the middle of
 * a transaction: the transaction fails with the error, the process lives on
 * (no unhandled 'error' event from the checked-out client), and the pool
 * serves the next statement on a fresh connection.
 */
import { expect, it } from 'vitest';
import { PostgresDriver } from '../../platform/storage/postgres.ts';
import { postgresCluster } from './helpers.ts';

it('a connection lost inside a transaction fails that transaction only', async () => {
  const driver = new PostgresDriver(await (await postgresCluster()).createDatabase());
  try {
    const failed = driver.transaction(async (tx) => {
      const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Another connection ends this one while the transaction holds it between statements.
      await driver.query('SELECT pg_terminate_backend($1)', [row?.pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return tx.query('SELECT 1');
    });
    await expect(failed).rejects.toThrow(/connection/i);
    expect(await driver.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  } finally {
    await driver.close();
  }
});
