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

describe('model guard: the service refuses a model that cannot share the stored vectors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
    const res = await postJson(t.url, '/v1/documents', { content: 'a chunk embedded by the hash model', namespace: 'guard' });
    await waitForDocument(t.url, res.body.id, (d) => d.status === 'ready');
    const db = t.app.get<DataSource>(getDataSourceToken());
    expect((await db.query(`SELECT DISTINCT model FROM chunks WHERE namespace = 'guard'`))[0].model).toMatch(/^hash:/);
  });
  afterAll(() => t.close());

  it('refuses to start with another dimension, saying how to migrate', async () => {
    await expect(startApp({}, { api: true, worker: false }, { embeddingProvider: new OtherModel('other:768', 768) })).rejects.toThrow(
      /stores 384-dimensional vectors but other:768 makes 768: .*new database/,
    );
  });

  it('refuses to start with another model of the same dimension unless told a re-embed is under way', async () => {
    const other = new OtherModel('other:384', 384);
    await expect(startApp({ ALLOW_MODEL_MISMATCH: 'false' }, { api: true, worker: false }, { embeddingProvider: other })).rejects.toThrow(
      /embedded by .*hash:.*not the configured other:384: re-embed them/,
    );
    const allowed = await startApp({ ALLOW_MODEL_MISMATCH: 'true' }, { api: true, worker: false }, { embeddingProvider: other });
    await allowed.close();
  });
});
