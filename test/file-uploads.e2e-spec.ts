import { getDataSourceToken } from '@nestjs/typeorm';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { StagedUploadSweeper } from '../src/extraction/worker/staged-upload.sweeper';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { makePdf } from './support/pdf-fixture';
import { TestApp, isSettled, postJson, startApp, waitForDocument } from './support/test-app';
import { UploadFile, uploadDocument } from './support/upload';

interface FileDocumentStatus {
  id: string;
  status: string;
  version: number;
  title: string | null;
  lastError: string | null;
  lastErrorClass: string | null;
  failedStage: string | null;
  source: { filename: string; mimeType: string; bytes: number; sha256: string; uploadedBy?: string } | null;
}

interface StoredChunk {
  content: string;
  metadata: { headingPath?: string[]; pages?: number[] } & Record<string, unknown>;
}

const UPLOAD_LIMIT = 2 * 1024 * 1024;
// Small chunks, so each heading's section is a chunk of its own.
const SMALL_CHUNKS = JSON.stringify({ size: 120, overlap: 0 });

describe('file uploads: multipart POST /v1/documents, extraction in the worker', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApp({ UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT) });
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await t.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
    await t.close();
  });

  /** Uploads `file`, expects 202, and waits until the document settles. */
  async function ingest(file: UploadFile, fields: Record<string, string> = {}): Promise<FileDocumentStatus> {
    const res = await uploadDocument(t.url, file, { chunking: SMALL_CHUNKS, ...fields });
    expect(res).toMatchObject({ status: 202, body: { status: 'queued', deduplicated: false } });
    return (await waitForDocument(t.url, res.body.id, isSettled)) as unknown as FileDocumentStatus;
  }

  function chunksOf(id: string): Promise<StoredChunk[]> {
    return db.query(`SELECT content, metadata FROM chunks WHERE document_id = $1 ORDER BY chunk_index`, [id]);
  }

  const chunkUnder = (chunks: StoredChunk[], words: string): StoredChunk | undefined => chunks.find((c) => c.content.includes(words));

  async function stagedBlobs(): Promise<number> {
    const rows: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM file_blobs WHERE document_id IS NULL`);
    return Number(rows[0].n);
  }

  it('ingests a PDF, keeping each page and naming the pages of each chunk', async () => {
    const pdf = makePdf([
      ['Quarterly report on the cooling plant.', 'The chillers ran at eighty percent of capacity all summer.'],
      ['Maintenance log for the pumps.', 'Pump seven was replaced after its bearings failed in July.'],
      ['Budget for next year.', 'Two new cooling towers are planned for the north roof.'],
    ]);
    const doc = await ingest({ name: 'cooling.pdf', bytes: pdf, type: 'application/pdf' }, { title: 'Cooling plant', uploadedBy: 'facilities-bot' });
    expect(doc).toMatchObject({
      status: 'ready',
      source: { filename: 'cooling.pdf', mimeType: 'application/pdf', bytes: pdf.length, uploadedBy: 'facilities-bot' },
    });
    expect(doc.source?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const chunks = await chunksOf(doc.id);
    expect(chunkUnder(chunks, 'chillers ran')?.metadata.pages).toEqual([1]);
    expect(chunkUnder(chunks, 'Pump seven')?.metadata.pages).toEqual([2]);
    expect(chunkUnder(chunks, 'cooling towers')?.metadata.pages).toEqual([3]);
    expect(chunks.every((c) => (c.metadata.pages ?? []).length > 0)).toBe(true);
  });

  it('ingests a DOCX document with its headings as heading paths', async () => {
    const docx = readFileSync(path.join(__dirname, 'fixtures', 'deploy-guide.docx'));
    // Declared as a generic binary: the name and the ZIP content decide.
    const doc = await ingest({ name: 'deploy-guide.docx', bytes: docx });
    expect(doc).toMatchObject({
      status: 'ready',
      source: { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
    });
    const chunks = await chunksOf(doc.id);
    expect(chunkUnder(chunks, 'container image')?.metadata.headingPath).toEqual(['Field Guide to the Deploy Pipeline', 'Building artifacts']);
    expect(chunkUnder(chunks, 'previous image tag')?.metadata.headingPath).toEqual(['Field Guide to the Deploy Pipeline', 'Rolling back']);
  });

  it('ingests HTML as markdown: headings become heading paths, scripts and styles are dropped', async () => {
    const html = `<!DOCTYPE html><html><head><title>Ignored title</title><style>p { color: red }</style></head><body>
      <h1>Office handbook</h1><p>Welcome to the office; badges are issued at the front desk on your first day.</p>
      <h2>Printing</h2><p>Printers on each floor accept jobs sent from the <b>print portal</b> within ten minutes.</p>
      <script>trackVisitor('secret-script-token')</script></body></html>`;
    const doc = await ingest({ name: 'handbook.html', bytes: html, type: 'text/html' });
    expect(doc).toMatchObject({ status: 'ready', source: { mimeType: 'text/html' } });
    // Posted without a title: the file name names it, and its chunks carry it as context.
    expect(doc.title).toBe('handbook');
    const contexts: Array<{ context: string }> = await db.query(`SELECT context FROM chunks WHERE document_id = $1`, [doc.id]);
    expect(contexts.map((c) => c.context)).toContain('handbook > Office handbook > Printing');
    const chunks = await chunksOf(doc.id);
    expect(chunkUnder(chunks, 'print portal')?.metadata.headingPath).toEqual(['Office handbook', 'Printing']);
    const all = chunks.map((c) => c.content).join('\n');
    expect(all).not.toContain('secret-script-token');
    expect(all).not.toContain('color: red');
    expect(all).not.toContain('Ignored title');
  });

  it('ingests markdown with its heading paths, and plain text and JSON as they are', async () => {
    const markdown = '# Runbook\n\nStart here when the pager goes off at night.\n\n## Disk full\n\nDelete old log archives from the data volume first.\n';
    const md = await ingest({ name: 'runbook.md', bytes: markdown, type: 'text/plain' });
    expect(md).toMatchObject({ status: 'ready', source: { mimeType: 'text/markdown' } });
    expect(chunkUnder(await chunksOf(md.id), 'old log archives')?.metadata.headingPath).toEqual(['Runbook', 'Disk full']);

    const txt = await ingest({ name: 'notes.txt', bytes: 'The quarterly offsite moves to the lake house this year.' });
    expect(txt).toMatchObject({ status: 'ready', source: { mimeType: 'text/plain' } });
    expect((await chunksOf(txt.id))[0].content).toBe('The quarterly offsite moves to the lake house this year.');

    const json = await ingest({ name: 'export', bytes: '{"ticket":"OPS-12","summary":"replace the broken fan in rack four"}' });
    expect(json).toMatchObject({ status: 'ready', source: { mimeType: 'application/json' } });
    expect((await chunksOf(json.id)).map((c) => c.content).join('\n')).toContain('"summary": "replace the broken fan in rack four"');
  });

  it('fails a PDF with no text (a scan) for good with no_text', async () => {
    const doc = await ingest({ name: 'scan.pdf', bytes: makePdf([null, null]) });
    expect(doc).toMatchObject({ status: 'failed', lastErrorClass: 'no_text', failedStage: 'extract' });
    expect(doc.lastError).toContain('scan.pdf');
  });

  it('fails a corrupt PDF for good with unreadable_file', async () => {
    const corrupt = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 0x2a), Buffer.from('\n%%EOF\n')]);
    const doc = await ingest({ name: 'broken.pdf', bytes: corrupt });
    expect(doc).toMatchObject({ status: 'failed', lastErrorClass: 'unreadable_file', failedStage: 'extract' });
    expect(doc.lastError).toMatch(/PDF/);
  });

  it('fails an encrypted PDF for good with unreadable_file, saying it is encrypted', async () => {
    const doc = await ingest({ name: 'locked.pdf', bytes: makePdf([['salary table']], { encrypted: true }) });
    expect(doc).toMatchObject({ status: 'failed', lastErrorClass: 'unreadable_file', failedStage: 'extract' });
    expect(doc.lastError).toContain('encrypted');
  });

  it('refuses an unsupported type with 415 naming the supported ones, storing nothing', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(10000, 1)]);
    const res = await uploadDocument(t.url, { name: 'diagram.pdf', bytes: png, type: 'application/pdf' });
    expect(res.status).toBe(415);
    expect(res.body.message).toContain('a PNG image');
    expect(res.body.message).toContain('application/pdf');
    expect(res.body.message).toContain('text/markdown');
    expect(await stagedBlobs()).toBe(0);
  });

  it('refuses a file over UPLOAD_LIMIT_BYTES with 413, dropping what was stored of it', async () => {
    const big = Buffer.alloc(UPLOAD_LIMIT + 4096, 'a');
    const res = await uploadDocument(t.url, { name: 'big.txt', bytes: big });
    expect(res.status).toBe(413);
    expect(res.body.message).toContain(`${UPLOAD_LIMIT} bytes`);
    expect(await stagedBlobs()).toBe(0);
  });

  it('refuses bad form fields with 400 naming the field, dropping the stored file', async () => {
    const badMetadata = await uploadDocument(t.url, { name: 'a.txt', bytes: 'some words' }, { metadata: '{not json' });
    expect(badMetadata.status).toBe(400);
    expect(badMetadata.body.message).toContain('metadata');
    const badChunking = await uploadDocument(t.url, { name: 'a.txt', bytes: 'some words' }, { chunking: '{"size":10,"overlap":0}' });
    expect(badChunking.status).toBe(400);
    expect(JSON.stringify(badChunking.body.message)).toContain('size');
    const noFile = await fetch(`${t.url}/v1/documents`, { method: 'POST', body: (() => { const f = new FormData(); f.append('title', 'x'); return f; })() });
    expect(noFile.status).toBe(400);
    expect(await stagedBlobs()).toBe(0);
  });

  it('answers a repeated upload under one Idempotency-Key with the first answer, keeping one copy of the file', async () => {
    const file = { name: 'memo.txt', bytes: 'The parking garage closes for repairs on Friday.' };
    const key = { 'idempotency-key': 'upload-memo-1' };
    const first = await uploadDocument(t.url, file, { namespace: 'files-idempotent' }, key);
    const repeat = await uploadDocument(t.url, file, { namespace: 'files-idempotent' }, key);
    expect(first.status).toBe(202);
    expect(repeat).toEqual(first);
    const other = await uploadDocument(t.url, { ...file, bytes: 'Another memo entirely.' }, { namespace: 'files-idempotent' }, key);
    expect(other.status).toBe(422);
    expect(await stagedBlobs()).toBe(0);
    await waitForDocument(t.url, first.body.id, isSettled);
  });

  it('still takes JSON bodies on the same route', async () => {
    const res = await postJson(t.url, '/v1/documents', { content: 'Plain JSON still works beside uploads.' });
    expect(res.status).toBe(202);
    expect((await waitForDocument(t.url, res.body.id, isSettled)) as unknown as FileDocumentStatus).toMatchObject({ status: 'ready', source: null });
  });

  it('sweeps away uploads abandoned mid-stream a day ago, keeping recent ones and documents\' files', async () => {
    const [abandoned] = await db.query(`INSERT INTO file_blobs (created_at) VALUES (now() - interval '25 hours') RETURNING id`);
    await db.query(`INSERT INTO file_blob_parts (blob_id, seq, data) VALUES ($1, 0, 'partial'::bytea)`, [abandoned.id]);
    const [streaming] = await db.query(`INSERT INTO file_blobs DEFAULT VALUES RETURNING id`);
    const owned: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM file_blobs WHERE document_id IS NOT NULL`);

    await expect(t.app.get(StagedUploadSweeper).sweep()).resolves.toBe(1);
    const left: Array<{ id: string }> = await db.query(`SELECT id FROM file_blobs WHERE document_id IS NULL`);
    expect(left.map((r) => r.id)).toEqual([streaming.id]);
    const ownedAfter: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM file_blobs WHERE document_id IS NOT NULL`);
    expect(ownedAfter[0].n).toBe(owned[0].n);
    await db.query(`DELETE FROM file_blobs WHERE id = $1`, [streaming.id]);
  });

  it('deduplicates the same bytes under the same externalId, and keeps only the latest file of a document', async () => {
    const first = { name: 'policy.md', bytes: '# Leave policy\n\nTwenty-five days of leave a year.' };
    const fields = { externalId: 'leave-policy', namespace: 'files-dedupe' };
    const created = await uploadDocument(t.url, first, fields);
    expect(created.status).toBe(202);
    await waitForDocument(t.url, created.body.id, isSettled);

    const again = await uploadDocument(t.url, { ...first, name: 'renamed.md' }, fields);
    expect(again).toMatchObject({ status: 200, body: { id: created.body.id, version: 1, deduplicated: true } });

    const changed = await uploadDocument(t.url, { name: 'policy.md', bytes: '# Leave policy\n\nThirty days of leave a year.' }, fields);
    expect(changed).toMatchObject({ status: 202, body: { id: created.body.id, version: 2, deduplicated: false } });
    const done = await waitForDocument(t.url, created.body.id, (d) => d.version === 2 && isSettled(d));
    expect(done.status).toBe('ready');
    expect((await chunksOf(created.body.id)).map((c) => c.content).join(' ')).toContain('Thirty days');
    const blobs: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM file_blobs WHERE document_id = $1`, [created.body.id]);
    expect(Number(blobs[0].n)).toBe(1);
    expect(await stagedBlobs()).toBe(0);
  });
});

describe('file uploads: the extraction time limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ EXTRACT_TIMEOUT_MS: '200' });
  });
  afterAll(async () => {
    await t.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
    await t.close();
  });

  it('stops an extraction that runs past EXTRACT_TIMEOUT_MS and fails the document for good, the worker going on', async () => {
    // About one second of pdf.js work on an idle machine of these (nine under heavy load), far past the limit.
    const slow = makePdf(Array.from({ length: 1000 }, (_, page) => Array.from({ length: 40 }, (_, line) => `page ${page} line ${line} of a long report`)));
    const res = await uploadDocument(t.url, { name: 'slow.pdf', bytes: slow });
    expect(res.status).toBe(202);
    const doc = (await waitForDocument(t.url, res.body.id, isSettled)) as unknown as FileDocumentStatus;
    expect(doc).toMatchObject({ status: 'failed', lastErrorClass: 'extract_timeout', failedStage: 'extract' });
    expect(doc.lastError).toContain('200 ms');

    // The worker is free again: the next file is processed.
    const next = await uploadDocument(t.url, { name: 'quick.txt', bytes: 'A short note that extracts at once.' });
    expect((await waitForDocument(t.url, next.body.id, isSettled)).status).toBe('ready');
  });
});
