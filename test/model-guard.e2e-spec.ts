import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EmbeddingProvider } from '../src/embedding/embedding-provider';
import { HashEmbeddingProvider } from '../src/embedding/hash-embedding.provider';
import { TestApp, postJson, startApp, waitForDocument } from './support/test-app';

/** A provider that says it is another model, with vectors of a chosen size. */
class OtherModel implements EmbeddingProvider {
  private readonly inner: HashEmbeddingProvider;
  constructor(readonly modelId: string, readonly dimension: number) {
    this.inner = new HashEmbeddingProvider(dimension);
  }
  embed(texts: string[]): Promise<number[][]> {
    return this.inner.embed(texts);
  }
}

describe('model guard: another model never silently shares the stored vectors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
    const res = await postJson(t.url, '/v1/documents', { content: 'a chunk embedded by the hash model', namespace: 'guard' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const db = t.app.get<DataSource>(getDataSourceToken());
    expect((await db.query(`SELECT DISTINCT model FROM chunks WHERE namespace = 'guard'`))[0].model).toMatch(/^hash:/);
  });
  afterAll(() => t.close());

  it('refuses another model or dimension when EMBEDDING_MODEL_CHANGE=refuse, saying how to migrate', async () => {
    const refuse = { ALLOW_MODEL_MISMATCH: 'false', EMBEDDING_MODEL_CHANGE: 'refuse' };
    await expect(startApp(refuse, { api: true, worker: false }, { embeddingProvider: new OtherModel('other:768', 768) })).rejects.toThrow(
      /stored vectors were made by hash:\S+ \(384 dimensions\), but the configured model is other:768 \(768 dimensions\): start with EMBEDDING_MODEL_CHANGE=reindex to re-embed/,
    );
    await expect(startApp(refuse, { api: true, worker: false }, { embeddingProvider: new OtherModel('other:384', 384) })).rejects.toThrow(
      /but the configured model is other:384 \(384 dimensions\): .*or configure hash:\S+ again/,
    );
  });

  it('lets ALLOW_MODEL_MISMATCH search stored vectors with another model of the same dimension only', async () => {
    await expect(
      startApp({ ALLOW_MODEL_MISMATCH: 'true' }, { api: true, worker: false }, { embeddingProvider: new OtherModel('other:768', 768) }),
    ).rejects.toThrow(/ALLOW_MODEL_MISMATCH cannot mix dimensions/);
    const allowed = await startApp({ ALLOW_MODEL_MISMATCH: 'true' }, { api: true, worker: false }, { embeddingProvider: new OtherModel('other:384', 384) });
    const res = await postJson(allowed.url, '/v1/search', { query: 'a chunk embedded by the hash model', namespace: 'guard', mode: 'vector' });
    expect(res.status).toBe(200);
    expect(res.body.results.length).toBe(1);
    await allowed.close();
  });
});
