import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { INGEST_QUEUE, ingestJobId } from '../src/ingest/queue/ingest.jobs';
import { TestApp, postJson, startApp } from './support/test-app';

const NS = 'accept-groups';

/**
 * Plain `POST /v1/documents` requests arriving together share one transaction and one
 * `addBulk` (AcceptGroups); each must still get the answer it would get alone, with its
 * row committed and its job added, and a bad one must fail alone.
 */
describe('accept groups', () => {
  let t: TestApp;
  let db: DataSource;
  let queue: Queue;
  const tag = `${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    // API only, so jobs stay waiting where the test can see them; a long window so concurrent posts group.
    t = await startApp({ ACCEPT_GROUP_WINDOW_MS: '100' }, { api: true, worker: false });
    db = t.app.get(DataSource);
    queue = new Queue(INGEST_QUEUE, { prefix: t.config.queue.prefix, connection: { host: '127.0.0.1', port: 6379 } });
  });
  afterAll(async () => {
    await db?.query(`DROP TRIGGER IF EXISTS accept_groups_refuse ON documents`).catch(() => undefined);
    await queue?.close();
    await t?.close();
  });

  async function jobOf(id: string, version: number): Promise<string | undefined> {
    return (await queue.getJob(ingestJobId({ documentId: id, version })))?.id;
  }

  it('records concurrent posts in shared transactions, each committed with its text and its job', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => ({ namespace: NS, title: `t${i}`, content: `grouped post ${tag} number ${i}` }));
    const answers = await Promise.all(bodies.map((b) => postJson(t.url, '/v1/documents', b)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const ids = answers.map((a) => a.body.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const a of answers) expect(a.body).toMatchObject({ status: 'queued', version: 1, deduplicated: false, statusUrl: `/v1/documents/${a.body.id}` });

    const rows: Array<{ id: string; content: string; created_at: Date }> = await db.query(
      `SELECT d.id, c.content, d.created_at FROM documents d JOIN document_contents c ON c.document_id = d.id AND c.version = d.version WHERE d.id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    answers.forEach((a, i) => expect(byId.get(a.body.id)?.content).toBe(bodies[i].content));
    for (const a of answers) expect(await jobOf(a.body.id, 1)).toBeDefined();
    // created_at is the transaction's start: fewer distinct values than documents means shared commits.
    expect(new Set(rows.map((r) => r.created_at.getTime())).size).toBeLessThan(ids.length);
  });

  it('answers a repeat of unchanged content as alone: deduplicated with the stored status, one job for the key', async () => {
    const body = { namespace: NS, externalId: `same-${tag}`, content: `the same text ${tag}` };
    const answers = await Promise.all([body, body, body].map((b) => postJson(t.url, '/v1/documents', b)));
    const id = answers[0].body.id as string;
    expect(answers.map((a) => a.body.id)).toEqual([id, id, id]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    expect(answers.filter((a) => a.body.deduplicated)).toHaveLength(2);
    expect(await jobOf(id, 1)).toBeDefined();

    // Once ready, a re-post says so.
    await db.query(`UPDATE documents SET status = 'ready' WHERE id = $1`, [id]);
    const again = await Promise.all([body, { namespace: NS, content: `a neighbour ${tag}` }].map((b) => postJson(t.url, '/v1/documents', b)));
    expect(again[0]).toMatchObject({ status: 200, body: { id, status: 'ready', version: 1, deduplicated: true } });
    expect(again[1].status).toBe(202);
  });

  it('answers re-posts of unchanged content from a read: no lock taken, nothing written', async () => {
    const bodies = Array.from({ length: 4 }, (_, i) => ({ namespace: NS, externalId: `repost-${tag}-${i}`, content: `stored once ${tag} ${i}` }));
    const first = await Promise.all(bodies.map((b) => postJson(t.url, '/v1/documents', b)));
    const ids = first.map((a) => a.body.id as string);
    const before: Array<{ id: string; xmin: string }> = await db.query(`SELECT id, xmin::text FROM documents WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
    // Another session holds every row: a post that needed a lock would wait for it.
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`SELECT 1 FROM documents WHERE id = ANY($1::uuid[]) FOR UPDATE`, [ids]);
      const again = await Promise.race([
        Promise.all(bodies.map((b) => postJson(t.url, '/v1/documents', b))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a re-post waited for the row lock')), 15000)),
      ]);
      again.forEach((a, i) => expect(a).toMatchObject({ status: 200, body: { id: ids[i], version: 1, status: 'queued', deduplicated: true } }));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    const after: Array<{ id: string; xmin: string }> = await db.query(`SELECT id, xmin::text FROM documents WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
    expect(after).toEqual(before);
  });

  it('records a changed text under an existing key as a new version with its own job', async () => {
    const key = `changing-${tag}`;
    const first = await postJson(t.url, '/v1/documents', { namespace: NS, externalId: key, content: `version one ${tag}` });
    const [second, other] = await Promise.all([
      postJson(t.url, '/v1/documents', { namespace: NS, externalId: key, content: `version two ${tag}` }),
      postJson(t.url, '/v1/documents', { namespace: NS, content: `bystander ${tag}` }),
    ]);
    expect(second).toMatchObject({ status: 202, body: { id: first.body.id, version: 2, deduplicated: false } });
    expect(other.status).toBe(202);
    expect(await jobOf(first.body.id, 2)).toBeDefined();
    const [row] = await db.query(`SELECT c.content FROM document_contents c JOIN documents d ON d.id = c.document_id AND d.version = c.version WHERE d.id = $1`, [first.body.id]);
    expect(row.content).toBe(`version two ${tag}`);
  });

  it('fails a document Postgres refuses alone: the rest of its group is recorded and queued', async () => {
    await db.query(`CREATE OR REPLACE FUNCTION accept_groups_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.title = 'refused' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER accept_groups_refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION accept_groups_refuse()`);
    try {
      const bodies = Array.from({ length: 6 }, (_, i) => ({ namespace: NS, title: i === 3 ? 'refused' : `ok${i}`, content: `mixed group ${tag} ${i}` }));
      const answers = await Promise.all(bodies.map((b) => postJson(t.url, '/v1/documents', b)));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 500, 202, 202]);
      const accepted = answers.filter((a) => a.status === 202).map((a) => a.body.id as string);
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM documents WHERE id = ANY($1::uuid[])`, [accepted]);
      expect(n).toBe(5);
      for (const id of accepted) expect(await jobOf(id, 1)).toBeDefined();
      const [{ refused }] = await db.query(`SELECT count(*)::int AS refused FROM documents WHERE namespace = $1 AND title = 'refused'`, [NS]);
      expect(refused).toBe(0);
    } finally {
      await db.query(`DROP TRIGGER IF EXISTS accept_groups_refuse ON documents`);
    }
  });
});
