import { Client } from 'pg';

/**
 * Waits until other sessions have run `count` statements on `table`, one after another,
 * and the transaction of the last one has ended: holds an exclusive lock on the table
 * until another client session is seen waiting for it, lets that one through, and asks
 * for the lock again (which waits for that session's transaction to end). Proves that a
 * periodic task went over the table that many times, without guessing how long it takes.
 * Every other statement on `table` waits behind the lock meanwhile (for milliseconds),
 * and counts as one of the `count`: use it while nothing else touches the table.
 */
export async function statementsOn(databaseUrl: string, table: string, count: number, timeoutMs = 30000): Promise<void> {
  // The session holding the lock runs nothing else: a transaction with no snapshot does
  // not hold up what waits for older snapshots (CREATE INDEX CONCURRENTLY in that task).
  const locker = new Client({ connectionString: databaseUrl });
  const watcher = new Client({ connectionString: databaseUrl });
  await Promise.all([locker.connect(), watcher.connect()]);
  const deadline = Date.now() + timeoutMs;
  try {
    await locker.query(`SET lock_timeout = ${timeoutMs}`);
    const [{ oid, pid }] = (
      await locker.query<{ oid: number; pid: number }>('SELECT $1::regclass::oid AS oid, pg_backend_pid() AS pid', [table])
    ).rows;
    for (let seen = 0; ; seen++) {
      await locker.query('BEGIN');
      try {
        await locker.query(`LOCK TABLE ${locker.escapeIdentifier(table)} IN ACCESS EXCLUSIVE MODE`);
        if (seen === count) return;
        for (;;) {
          const { rows } = await watcher.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'relation' AND l.relation = $1 AND NOT l.granted
                AND a.backend_type = 'client backend' AND a.pid <> $2`,
            [oid, pid],
          );
          if (rows[0].n > 0) break;
          if (Date.now() > deadline) throw new Error(`${seen} of ${count} statements on ${table} seen in ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        await locker.query('COMMIT');
      }
    }
  } finally {
    await Promise.all([locker.end(), watcher.end()]);
  }
}
