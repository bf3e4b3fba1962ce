import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AuditStats } from '../src/audit/audit-stats';
import { DriftAuditor } from '../src/audit/worker/drift-auditor';
import { DEAD_LETTER_QUEUE, deadLetterJobId } from '../src/ingest/queue/ingest.jobs';
import { ScriptedEmbedder } from './support/scripted-embedder';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

const NS = 'drift';

/**
 * Breaks the database in each way the auditor knows, then watches it report (AUDIT_REPAIR=false
 * changes nothing) and repair (every document ready again with the right chunks, orphans gone).
 */
describe('drift audit: finds and repairs drift between documents, vectors and queues', () => {
  const env = { QUEUE_PREFIX: `drift-${process.pid}`, AUDIT_INTERVAL_MS: '3600000', RECONCILE_INTERVAL_MS: '3600000', RECONCILE_AGE_MS: '1000' };
  const embedder = new ScriptedEmbedder();
  embedder.fault = (texts) => (texts.some((t) => t.includes('POISON')) ? 'permanent' : undefined);
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const post = async (a: TestApp, content: string): Promise<string> => {
    const res = await postJson(a.url, '/v1/documents', { content, namespace: NS, chunking: { size: 200, overlap: 0 } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const text = (tag: string): string => Array.from({ length: 6 }, (_, i) => `Paragraph ${i} of the ${tag} document, long enough to make its own chunk of text here.`).join('\n\n');
  const chunkRows = async (db: DataSource, id: string): Promise<Array<{ model: string }>> =>
    db.query(`SELECT model FROM chunks WHERE document_id = $1`, [id]);

  it('reports every kind with AUDIT_REPAIR=false, then repairs them', async () => {
    app = await startApp({ ...env, AUDIT_REPAIR: 'false' }, { api: true, worker: true }, { embeddingProvider: embedder });
    let db = app.app.get(DataSource);
    const [short, foreign, orphaned, stuck, poison] = [
      await post(app, text('short')),
      await post(app, text('foreign')),
      await post(app, text('orphaned')),
      await post(app, text('stuck')),
      await post(app, `POISON ${text('poison')}`),
    ];
    for (const id of [short, foreign, orphaned, stuck]) await waitForDocument(app.url, id, (d) => d.status === 'ready');
    await waitForDocument(app.url, poison, (d) => d.status === 'failed');
    const model = (await chunkRows(db, short))[0].model;
    const expectedChunks = (await chunkRows(db, short)).length;
    expect(expectedChunks).toBeGreaterThan(2);

    // 1. A ready document lost chunk rows (a manual fix, a partial restore).
    await db.query(`DELETE FROM chunks WHERE document_id = $1 AND chunk_index > 0`, [short]);
    // 2. Chunks of another model in the active table (an old version's bug).
    await db.query(`UPDATE chunks SET model = 'retired-model' WHERE document_id = $1`, [foreign]);
    // 3. Chunks whose document is gone: a delete with foreign keys off, as a restore runs.
    await db.transaction(async (em) => {
      await em.query(`SET LOCAL session_replication_role = replica`);
      await em.query(`DELETE FROM documents WHERE id = $1`, [orphaned]);
    });
    expect((await chunkRows(db, orphaned)).length).toBeGreaterThan(0);
    // 4. A document processing for an hour with no job.
    await db.query(`UPDATE documents SET status = 'processing', updated_at = now() - interval '1 hour' WHERE id = $1`, [stuck]);
    // 5. A failed document whose dead letter Redis lost.
    const dlq = app.app.get<Queue>(getQueueToken(DEAD_LETTER_QUEUE));
    await dlq.remove(deadLetterJobId({ documentId: poison, version: 1 }));
    // 6. Embedding-cache entries of a model no generation uses.
    await db.query(
      `INSERT INTO embedding_cache (model, dimension, text_sha256, embedding)
       SELECT 'retired-model', 3, sha256(i::text::bytea), '[1,2,3]' FROM generate_series(1, 25) i`,
    );

    const reportOnly = await app.app.get(DriftAuditor).runIfElected();
    const found = (kind: string): string[] => reportOnly!.findings.filter((f) => f.kind === kind).map((f) => f.documentId ?? String(f.detail.model));
    expect(found('chunk_count_mismatch')).toContain(short);
    expect(found('foreign_model_chunks')).toContain(foreign);
    expect(found('orphan_chunks')).toContain(orphaned);
    expect(found('stuck_documents')).toContain(stuck);
    expect(found('failed_without_dead_letter')).toContain(poison);
    expect(found('stale_cache_models')).toContain('retired-model');
    expect(reportOnly!.findings.every((f) => f.action === 'reported')).toBe(true);
    // Nothing changed.
    expect((await chunkRows(db, short)).length).toBe(1);
    expect((await chunkRows(db, orphaned)).length).toBeGreaterThan(0);
    expect(await dlq.getJobState(deadLetterJobId({ documentId: poison, version: 1 }))).toBe('unknown');

    // The on-demand report sees the same, per namespace.
    const res = await fetch(`${app.url}/v1/audit?namespace=${NS}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kinds: Record<string, { found: number }>; recent: Array<{ kind: string; action: string }>; complete: boolean };
    expect(body.complete).toBe(true);
    for (const kind of ['chunk_count_mismatch', 'foreign_model_chunks', 'orphan_chunks', 'stuck_documents', 'failed_without_dead_letter']) {
      expect(body.kinds[kind].found).toBeGreaterThanOrEqual(1);
    }
    expect(body.kinds.stale_cache_models.found).toBe(0); // the cache has no namespace
    expect(body.recent.some((e) => e.kind === 'orphan_chunks' && e.action === 'reported')).toBe(true);
    expect((await fetch(`${app.url}/v1/audit?namespace=bad%20name`)).status).toBe(400);
    await app.close();

    app = await startApp(env, { api: true, worker: true }, { embeddingProvider: embedder });
    db = app.app.get(DataSource);
    const repaired = await app.app.get(DriftAuditor).runIfElected();
    const action = (kind: string, id: string): string | undefined => repaired!.findings.find((f) => f.kind === kind && (f.documentId ?? f.detail.model) === id)?.action;
    expect(action('chunk_count_mismatch', short)).toBe('requeued');
    expect(action('foreign_model_chunks', foreign)).toBe('requeued');
    expect(action('orphan_chunks', orphaned)).toBe('deleted');
    expect(action('stuck_documents', stuck)).toBe('requeued');
    expect(action('failed_without_dead_letter', poison)).toBe('dead_lettered');
    expect(action('stale_cache_models', 'retired-model')).toBe('deleted');

    await waitForDocument(app.url, short, (d) => d.status === 'ready' && d.version === 2);
    expect((await chunkRows(db, short)).length).toBe(expectedChunks);
    await waitForDocument(app.url, foreign, (d) => d.status === 'ready' && d.version === 2);
    expect((await chunkRows(db, foreign)).every((c) => c.model === model)).toBe(true);
    expect(await waitForDocument(app.url, stuck, (d) => d.status === 'ready')).toMatchObject({ version: 1 });
    expect(await chunkRows(db, orphaned)).toEqual([]);
    const dlq2 = app.app.get<Queue>(getQueueToken(DEAD_LETTER_QUEUE));
    expect(await dlq2.getJobState(deadLetterJobId({ documentId: poison, version: 1 }))).not.toBe('unknown');
    expect(await db.query(`SELECT 1 FROM embedding_cache WHERE model = 'retired-model'`)).toEqual([]);

    // A second pass finds nothing left in the namespace, and the counts add up both passes.
    const after = await app.app.get(DriftAuditor).runIfElected();
    expect(after!.findings.filter((f) => f.namespace === NS || f.kind === 'stale_cache_models')).toEqual([]);
    const counts = await app.app.get(AuditStats).counts();
    const count = (kind: string, act: string): number => counts.find((c) => c.kind === kind && c.action === act)?.findings ?? 0;
    expect(count('orphan_chunks', 'reported')).toBeGreaterThanOrEqual(1);
    expect(count('orphan_chunks', 'deleted')).toBeGreaterThanOrEqual(1);
    expect(count('chunk_count_mismatch', 'requeued')).toBeGreaterThanOrEqual(1);
    // The same counts, as /metrics shows them.
    const scrape = await (await fetch(`${app.url}/metrics`)).text();
    expect(scrape).toContain(`ingest_audit_findings{kind="orphan_chunks",action="deleted"} ${count('orphan_chunks', 'deleted')}`);
    expect(scrape).toMatch(/^ingest_audit_rows\{kind="chunk_count_mismatch",action="requeued"\} [1-9]/m);
  });
});
