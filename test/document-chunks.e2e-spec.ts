import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StoredChunkView as Chunk } from '../src/vector-store/chunk-page.repository';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';


describe('chunk listing and delete by external id', () => {
  let t: TestApp;
  let db: DataSource;
  const ns = `chunks-${Date.now()}`;

  beforeAll(async () => {
    t = await startApp();
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${t.url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const del = async (path: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${t.url}${path}`, { method: 'DELETE' });
    return { status: res.status, text: await res.text() };
  };

  /** Posts through the batch route and waits until each document is ready. */
  async function ingest(documents: Array<Record<string, unknown>>): Promise<string[]> {
    const res = await postJson(t.url, '/v1/documents/batch', { documents });
    expect(res.status).toBe(200);
    const ids = (res.body.results as Array<{ status: string; id: string }>).map((r) => {
      expect(r.status).toBe('accepted');
      return r.id;
    });
    for (const id of ids) expect((await waitForDocument(t.url, id, (d) => d.status === 'ready' || d.status === 'failed')).status).toBe('ready');
    return ids;
  }

  const sections = Array.from({ length: 7 }, (_, i) => `## Part ${i}\n\nParagraph number ${i} talks about topic ${i} at some length here.`);

  it('pages through a document\'s chunks in order, without vectors unless asked', async () => {
    const [id] = await ingest([
      { content: `# Guide\n\n${sections.join('\n\n')}`, title: 'Guide', namespace: ns, metadata: { team: 'docs' }, chunking: { size: 80, overlap: 0 } },
    ]);
    const { chunk_count } = (await db.query(`SELECT chunk_count FROM documents WHERE id = $1`, [id]))[0] as { chunk_count: number };
    expect(chunk_count).toBeGreaterThan(4);

    const seen: Chunk[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { items: Chunk[]; nextCursor: string | null } } = await get(
        `/v1/documents/${id}/chunks?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 50);

    expect(seen.map((c) => c.index)).toEqual(Array.from({ length: chunk_count }, (_, i) => i));
    expect(pages).toBe(Math.ceil(chunk_count / 2));
    expect(seen.every((c) => c.vector === undefined)).toBe(true);
    expect(seen[1].context).toMatch(/^Guide > (.* > )?Part \d$/);
    expect(seen[0].metadata).toMatchObject({ team: 'docs' });
    expect(seen.map((c) => c.content).join('\n')).toContain('Paragraph number 6');

    const withVectors = await get(`/v1/documents/${id}/chunks?limit=1&includeVectors=true`);
    expect(withVectors.body.items[0].index).toBe(0);
    expect(withVectors.body.items[0].vector).toHaveLength(t.config.embedding.dimension);
    expect(withVectors.body.items[0].vector.every((x: unknown) => typeof x === 'number')).toBe(true);
  });

  it('answers 404 for an unknown document and 400 for a bad cursor, limit or flag', async () => {
    expect((await get(`/v1/documents/00000000-0000-4000-8000-000000000000/chunks`)).status).toBe(404);
    const [id] = await ingest([{ content: 'short text', namespace: ns }]);
    for (const [query, message] of [
      ['cursor=not-ours', /cursor is not valid/],
      ['limit=1000', /limit must not be greater than 100/],
      ['includeVectors=yes', /includeVectors must be true or false/],
    ] as Array<[string, RegExp]>) {
      const res = await get(`/v1/documents/${id}/chunks?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it('deletes by (namespace, externalId): the document and its chunks, nothing else', async () => {
    const other = `${ns}-other`;
    const [mine, theirs] = await ingest([
      { content: 'delete me by my external id', externalId: 'ext-1', namespace: ns },
      { content: 'same external id, other namespace', externalId: 'ext-1', namespace: other },
    ]);
    const gone = await del(`/v1/documents?namespace=${ns}&externalId=ext-1`);
    expect(gone.status).toBe(204);
    expect(gone.text).toBe('');
    expect((await get(`/v1/documents/${mine}`)).status).toBe(404);
    expect((await db.query(`SELECT count(*)::int AS n FROM chunks WHERE document_id = $1`, [mine]))[0].n).toBe(0);
    expect((await get(`/v1/documents/${theirs}`)).body.status).toBe('ready');

    const again = await del(`/v1/documents?namespace=${ns}&externalId=ext-1`);
    expect(again.status).toBe(404);
    expect(JSON.parse(again.text).message).toMatch(/no document with externalId "ext-1" in namespace/);
  });

  it('deletes in the default namespace when none is given, and requires an externalId', async () => {
    const externalId = `default-ns-${Date.now()}`;
    const [id] = await ingest([{ content: 'in the default namespace', externalId }]);
    expect((await del(`/v1/documents?externalId=${encodeURIComponent(externalId)}`)).status).toBe(204);
    expect((await get(`/v1/documents/${id}`)).status).toBe(404);

    const bare = await del(`/v1/documents`);
    expect(bare.status).toBe(400);
    expect(JSON.parse(bare.text).message).toMatch(/externalId is required/);
  });
});
