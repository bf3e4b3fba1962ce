import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';
import { waitUntil } from './support/wait';

interface History {
  status: string;
  attempts: number;
  history: Array<{ outcome: string; errorClass: string | null; error: string | null }>;
}

/**
 * A job whose connection wedges (here: its chunk write waits on a lock another session holds,
 * with the statement timeout far away) is aborted at its deadline: its session is ended, so its
 * transaction rolls back and its row locks go, and the attempt counts as a `timeout` failure.
 */
describe('job deadline', () => {
  let app: TestApp | undefined;
  const blocker = new Client({ connectionString: process.env.DATABASE_URL });
  afterAll(async () => {
    await blocker.end().catch(() => undefined);
    await app?.close();
  });

  it('aborts a job wedged on a lock, ends its session, counts a timeout, and the retry completes', async () => {
    app = await startApp({ JOB_DEADLINE_MS: '2000', JOB_DEADLINE_PER_MB_MS: '0', PG_STATEMENT_TIMEOUT_MS: '600000', QUEUE_ATTEMPTS: '10' });
    const db = app.app.get(DataSource);
    await blocker.connect();
    const blockerPid = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await blocker.query('BEGIN');
    // Reads go on; any write of chunks waits for as long as this transaction lasts.
    await blocker.query('LOCK TABLE chunks IN SHARE MODE');

    const posted = await postJson(app.url, '/v1/documents', { content: 'a document whose write wedges on a lock', namespace: 'deadline' });
    expect(posted.status).toBe(202);
    const id = posted.body.id as string;
    const waiting = await waitUntil(
      "the job's session waiting on the lock",
      async () => (await db.query(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1`, [blockerPid])) as Array<{ pid: number }>,
      (rows) => rows.length > 0,
      { timeoutMs: 10000 },
    );
    const wedgedPid = waiting[0].pid;
    const startedWaiting = Date.now();

    const failed = await waitUntil(
      'a timeout in the attempt history',
      async () => (await (await fetch(`${app!.url}/v1/documents/${id}`)).json()) as History,
      (d) => d.history.some((a) => a.errorClass === 'timeout'),
      { timeoutMs: 15000 },
    );
    const timeout = failed.history.find((a) => a.errorClass === 'timeout')!;
    expect(timeout.outcome).toBe('retry');
    expect(timeout.error).toContain('deadline of 2000 ms');
    // Cut off at the deadline, not by the statement timeout ten minutes away.
    expect(Date.now() - startedWaiting).toBeLessThan(10000);
    // Its session is gone (not idle in a transaction holding the document's row lock).
    const session = await db.query(`SELECT state FROM pg_stat_activity WHERE pid = $1`, [wedgedPid]);
    expect(session).toEqual([]);

    await blocker.query('COMMIT');
    const ready = await waitForDocument(app.url, id, (d) => d.status === 'ready', 30000);
    expect(ready.attempts).toBeGreaterThanOrEqual(2);
    // The pool still works for everything else.
    const other = await postJson(app.url, '/v1/documents', { content: 'after the wedge', namespace: 'deadline' });
    await waitForDocument(app.url, other.body.id, (d) => d.status === 'ready');
  });
});
