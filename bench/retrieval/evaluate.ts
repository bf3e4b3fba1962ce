/**
 * Retrieval quality of POST /v1/search on real documents: hit@1, hit@5 and MRR@10 by
 * document for the vector, keyword and hybrid modes, with and without contextual
 * chunks, beside a BM25 baseline computed here over the same chunks.
 *
 * It drops and re-creates its own database (default `ingest_eval`), runs the
 * migrations, starts the service in-process once per chunking setting and ingests
 * bench/retrieval/corpus through the HTTP API, then asks every question of
 * bench/retrieval/questions.ts through the API.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/retrieval/evaluate.js
 *     [--provider local|hash] [--database-url postgres://postgres@127.0.0.1:5432/ingest_eval]
 *     [--reuse]   keep an already ingested database (skips the ingest)
 *     [--sweep]   also score hybrid over a grid of RRF k / weights / candidates (same SQL, in-process)
 *
 * Search settings come from the environment as for the service (SEARCH_RRF_K,
 * SEARCH_VECTOR_WEIGHT, SEARCH_KEYWORD_WEIGHT, SEARCH_CANDIDATES).
 */
import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { NestExpressApplication } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';
import { EMBEDDING_PROVIDER, EmbeddingProvider } from '../../src/embedding/embedding-provider';
import { LiveGenerations } from '../../src/vector-store/generations/live-generations';
import { CorpusDoc, loadCorpus } from './corpus-files';
import { INGEST_QUEUE } from '../../src/ingest/queue/ingest.jobs';
import { ChunkRepository, FusionParams, SearchMode } from '../../src/vector-store/chunk.repository';
import { IDENTIFIERS, PARAPHRASED, Question } from './questions';

const MODES: SearchMode[] = ['vector', 'keyword', 'hybrid'];
const SETTINGS = [
  { name: 'plain', contextual: false },
  { name: 'contextual', contextual: true },
] as const;

interface Metrics {
  hit1: number;
  hit5: number;
  mrr10: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);


async function recreateDatabase(url: URL): Promise<void> {
  const dbName = decodeURIComponent(url.pathname.slice(1));
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`unsafe database name ${dbName}`);
  const admin = new URL(url.toString());
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await client.end();
  }
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  await db.end();
}

async function startService(env: Record<string, string>): Promise<{ app: NestExpressApplication; config: AppConfig; url: string }> {
  const config = loadConfig({ ...process.env, ...env });
  const app = await createApp(config, { api: true, worker: true });
  app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${port}` };
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function ingest(url: string, namespace: string, docs: CorpusDoc[]): Promise<void> {
  const ids: string[] = [];
  for (const d of docs) {
    const r = await post<{ id: string }>(`${url}/v1/documents`, { content: d.content, title: d.title, externalId: d.id, namespace });
    ids.push(r.id);
  }
  const t0 = Date.now();
  for (;;) {
    const states = await Promise.all(ids.map(async (id) => (await (await fetch(`${url}/v1/documents/${id}`)).json()) as { status: string; chunkCount: number | null }));
    const failed = states.filter((s) => s.status === 'failed').length;
    if (failed > 0) throw new Error(`${failed} documents failed to ingest`);
    const ready = states.filter((s) => s.status === 'ready');
    if (ready.length === ids.length) {
      const chunks = ready.reduce((n, s) => n + (s.chunkCount ?? 0), 0);
      const seconds = (Date.now() - t0) / 1000;
      console.log(`  ${namespace}: ${ids.length} documents, ${chunks} chunks in ${seconds.toFixed(0)} s (${(chunks / seconds).toFixed(0)} chunks/s)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Document ids in rank order (each once), for one question. */
type Ranker = (q: Question) => Promise<string[]>;

function score(ranked: string[], expected: string): Metrics {
  const pos = ranked.slice(0, 10).indexOf(expected);
  return { hit1: pos === 0 ? 1 : 0, hit5: pos >= 0 && pos < 5 ? 1 : 0, mrr10: pos >= 0 ? 1 / (pos + 1) : 0 };
}

async function evaluate(questions: Question[], rank: Ranker): Promise<Metrics> {
  const sum = { hit1: 0, hit5: 0, mrr10: 0 };
  for (const q of questions) {
    const m = score(await rank(q), q.expected);
    sum.hit1 += m.hit1;
    sum.hit5 += m.hit5;
    sum.mrr10 += m.mrr10;
  }
  const n = questions.length;
  return { hit1: sum.hit1 / n, hit5: sum.hit5 / n, mrr10: sum.mrr10 / n };
}

// ---- BM25 over the stored chunks ------------------------------------------------------

const STOP = new Set(
  'a an and are as at be by can do does for from how i if in into is it its me my of on or so that the their then there these this to was what when where which who why will with you your'.split(' '),
);

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter((t) => !STOP.has(t));
}

/** Okapi BM25 (k1 1.2, b 0.75) over chunks; a document ranks by its best chunk. */
class Bm25 {
  private readonly tf: Array<Map<string, number>> = [];
  private readonly len: number[] = [];
  private readonly df = new Map<string, number>();
  private readonly avgLen: number;

  constructor(private readonly chunks: Array<{ documentKey: string; text: string }>) {
    for (const c of chunks) {
      const m = new Map<string, number>();
      const ts = tokens(c.text);
      for (const t of ts) m.set(t, (m.get(t) ?? 0) + 1);
      for (const t of m.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      this.tf.push(m);
      this.len.push(ts.length);
    }
    this.avgLen = this.len.reduce((a, b) => a + b, 0) / Math.max(1, this.len.length);
  }

  rank(query: string): string[] {
    const n = this.chunks.length;
    const terms = [...new Set(tokens(query))];
    const scored: Array<{ key: string; s: number }> = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const t of terms) {
        const f = this.tf[i].get(t);
        if (!f) continue;
        const df = this.df.get(t) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        s += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * this.len[i]) / this.avgLen));
      }
      if (s > 0) scored.push({ key: this.chunks[i].documentKey, s });
    }
    scored.sort((a, b) => b.s - a.s);
    return [...new Set(scored.map((x) => x.key))].slice(0, 10);
  }
}

// ---- main ---------------------------------------------------------------------------

interface Row {
  setting: string;
  method: string;
  paraphrased: Metrics;
  identifiers: Metrics;
  all: Metrics;
}

async function main(): Promise<void> {
  const provider = arg('provider') ?? 'local';
  const dbUrl = new URL(arg('database-url') ?? 'postgres://postgres@127.0.0.1:5432/ingest_eval');
  const env: Record<string, string> = {
    DATABASE_URL: dbUrl.toString(),
    EMBEDDING_PROVIDER: provider,
    QUEUE_PREFIX: `eval-${randomUUID().slice(0, 8)}`,
    WORKER_CONCURRENCY: '2',
    ...(provider === 'hash' ? { EMBEDDING_DIMENSION: '384' } : {}),
  };
  const docs = loadCorpus();
  const all = [...PARAPHRASED, ...IDENTIFIERS];
  const unknown = all.filter((q) => !docs.some((d) => d.id === q.expected));
  if (unknown.length > 0) throw new Error(`questions expect unknown documents: ${unknown.map((q) => q.expected).join(', ')}`);
  console.log(
    `corpus: ${docs.length} documents, ${(docs.reduce((n, d) => n + d.content.length, 0) / 1e6).toFixed(2)} M characters; ` +
      `${PARAPHRASED.length} paraphrased + ${IDENTIFIERS.length} identifier questions; provider ${provider}`,
  );

  if (!flag('reuse')) {
    await recreateDatabase(dbUrl);
    const ds = createDataSource(loadConfig({ ...process.env, ...env }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    for (const s of SETTINGS) {
      const svc = await startService({ ...env, CONTEXTUAL_CHUNKS: String(s.contextual) });
      try {
        await ingest(svc.url, s.name, docs);
      } finally {
        await svc.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
        await svc.app.close();
      }
    }
  }

  const svc = await startService({ ...env, ROLE: 'api' });
  const rows: Row[] = [];
  try {
    const db = svc.app.get<DataSource>(getDataSourceToken());
    const docKey = new Map<string, string>(
      (await db.query(`SELECT id, external_id FROM documents`)).map((r: { id: string; external_id: string }) => [r.id, r.external_id]),
    );
    const sc = svc.config.search;
    console.log(`search: RRF k ${sc.rrfK}, weights vector ${sc.vectorWeight} / keyword ${sc.keywordWeight} (${sc.identifierKeywordWeight} for queries quoting an identifier), ${sc.candidates} candidates per list`);
    for (const s of SETTINGS) {
      const viaApi =
        (mode: SearchMode): Ranker =>
        async (q) => {
          const r = await post<{ results: Array<{ documentId: string }> }>(`${svc.url}/v1/search`, {
            query: q.question,
            namespace: s.name,
            mode,
            groupBy: 'document',
            topK: 10,
          });
          return r.results.map((d) => docKey.get(d.documentId) ?? d.documentId);
        };
      const methods: Array<[string, Ranker]> = MODES.map((m) => [m, viaApi(m)]);
      const chunkRows: Array<{ external_id: string; content: string; context: string | null }> = await db.query(
        `SELECT d.external_id, c.content, c.context FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.namespace = $1`,
        [s.name],
      );
      const bm25 = new Bm25(chunkRows.map((c) => ({ documentKey: c.external_id, text: `${c.context ?? ''} ${c.content}` })));
      methods.push(['bm25 (script)', async (q) => bm25.rank(q.question)]);
      for (const [method, rank] of methods) {
        rows.push({
          setting: s.name,
          method,
          paraphrased: await evaluate(PARAPHRASED, rank),
          identifiers: await evaluate(IDENTIFIERS, rank),
          all: await evaluate(all, rank),
        });
      }
    }
    printTable(rows);
    if (flag('sweep')) await sweep(svc.app, svc.config, docKey, all);
  } finally {
    await svc.app.close();
  }
}

function printTable(rows: Row[]): void {
  const f = (m: Metrics): string => [m.hit1, m.hit5, m.mrr10].map((x) => x.toFixed(3)).join('  ');
  console.log(`\n| chunks     | method        | paraphrased hit@1 hit@5 MRR@10 | identifiers hit@1 hit@5 MRR@10 | all hit@1 hit@5 MRR@10 |`);
  console.log(`|------------|---------------|--------------------------------|--------------------------------|------------------------|`);
  for (const r of rows) {
    console.log(`| ${r.setting.padEnd(10)} | ${r.method.padEnd(13)} | ${f(r.paraphrased).padEnd(30)} | ${f(r.identifiers).padEnd(30)} | ${f(r.all).padEnd(22)} |`);
  }
}

/** Hybrid over a grid of fusion settings, through the same repository SQL as the API. */
async function sweep(app: NestExpressApplication, config: AppConfig, docKey: Map<string, string>, all: Question[]): Promise<void> {
  const repo = app.get(ChunkRepository);
  const embedder = app.get<EmbeddingProvider>(EMBEDDING_PROVIDER);
  const { active } = await app.get(LiveGenerations).current();
  const vectors = new Map<string, number[]>();
  for (const q of all) vectors.set(q.question, (await embedder.embed([q.question]))[0]);
  console.log('\nsweep (contextual chunks, hybrid): k wv wk candidates | paraphrased MRR@10 | identifiers MRR@10 | all MRR@10');
  for (const k of [10, 30, 60]) {
    for (const [wv, wk] of [[1, 1], [1, 0.7], [1, 0.5], [0.7, 1]]) {
      for (const candidates of [20, 50, 100]) {
        const fusion: FusionParams = { k, vectorWeight: wv, keywordWeight: wk };
        const rank: Ranker = async (q) => {
          const hits = await repo.search({
            mode: 'hybrid', query: q.question, embedding: vectors.get(q.question)!, namespace: 'contextual', filter: {},
            limit: 50, candidates, fusion, efSearch: config.search.efSearch, keywordBudget: config.search.keywordBudget,
            exactVectorMaxChunks: config.search.exactVectorMaxChunks, generation: active,
          });
          return [...new Set(hits.map((h) => docKey.get(h.documentId) ?? h.documentId))];
        };
        const p = await evaluate(PARAPHRASED, rank);
        const i = await evaluate(IDENTIFIERS, rank);
        const a = await evaluate(all, rank);
        console.log(`  ${k} ${wv} ${wk} ${candidates} | ${p.mrr10.toFixed(3)} | ${i.mrr10.toFixed(3)} | ${a.mrr10.toFixed(3)}`);
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
