/**
 * Retrieval quality of POST /v1/search on every corpus of bench/retrieval/corpora: hit@1,
 * hit@5 and MRR@10 by document, per corpus and question type (paraphrased, identifiers),
 * for the vector, keyword and hybrid modes, beside the bare embedding model (plain
 * 1,000-character chunks, no context prefix) as a reference; search latency per mode,
 * query embedding included.
 *
 * It creates its database (default `ingest_eval`) if needed, runs the migrations, starts
 * the service in-process once per chunking setting and ingests each corpus that its
 * namespace (`<corpus>.<setting>`) does not hold yet through the HTTP API (markdown and
 * text as JSON, HTML as a file upload), then asks every question through the API.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/retrieval/evaluate.js
 *     [--provider local|hash] [--database-url postgres://postgres@127.0.0.1:5432/ingest_eval]
 *     [--fresh]                  drop the database first
 *     [--corpora nodejs,…]       only these corpora
 *     [--chunking 200/30/ctx,…]  chunking settings: tokens/overlap/ctx|plain (default: the configured one);
 *                                with several, each is chosen leave-one-corpus-out on hybrid
 *     [--sweep]                  compare fusion methods and parameters (leave-one-corpus-out); the lists
 *                                are kept in /tmp/retrieval-lists.json for [--sweep-only] (no service)
 *     [--no-bare] [--no-latency] skip the bare-model reference, the latency pass
 *     [--subset N]               per corpus, the N documents with the most questions per character, and
 *                                their questions (namespaces `<corpus>.<setting>.dN`): for a machine
 *                                where embedding the whole corpora takes too long
 *
 * Search settings come from the environment as for the service (SEARCH_*).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
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
import { INGEST_QUEUE } from '../../src/ingest/queue/ingest.jobs';
import { quotesIdentifier } from '../../src/vector-store/api/query-shape';
import { QueryEmbeddings } from '../../src/vector-store/api/query-embeddings';
import { ChunkRepository, SearchMode } from '../../src/vector-store/chunk.repository';
import { LiveGenerations } from '../../src/vector-store/generations/live-generations';
import { CachedEmbedder, bareModelRanker } from './bare-model';
import { Corpus, QUESTION_TYPES, QuestionType, loadCorpora } from './corpus-files';
import { FusionVariant, QueryLists, Scores, fusionGrid, listOnly, objective, scoreVariant, worstMargin } from './fusion-sweep';
import { Metrics, evaluate, formatMetrics, percentile } from './metrics';

const MODES: SearchMode[] = ['vector', 'keyword', 'hybrid'];
/** Rows of each list kept for the fusion sweep: the largest candidate count it tries. */
const SWEEP_LIST_ROWS = 200;
/** Where --sweep keeps the lists, so `--sweep-only` can fuse them again without the service. */
const LISTS_FILE = '/tmp/retrieval-lists.json';

interface ChunkSetting {
  label: string;
  tokens: number;
  overlap: number;
  contextual: boolean;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function parseSettings(spec: string): ChunkSetting[] {
  return spec.split(',').map((s) => {
    const m = /^(\d+)\/(\d+)\/(ctx|plain)$/.exec(s.trim());
    if (!m) throw new Error(`--chunking: "${s}" is not tokens/overlap/ctx|plain`);
    return { label: `t${m[1]}-o${m[2]}-${m[3]}`, tokens: Number(m[1]), overlap: Number(m[2]), contextual: m[3] === 'ctx' };
  });
}

function settingEnv(s: ChunkSetting): Record<string, string> {
  return { CHUNK_SIZE_TOKENS: String(s.tokens), CHUNK_OVERLAP_TOKENS: String(s.overlap), CONTEXTUAL_CHUNKS: String(s.contextual) };
}

const SUBSET = arg('subset') === undefined ? null : Number(arg('subset'));
const namespaceOf = (corpus: Corpus, s: ChunkSetting): string => `${corpus.name}.${s.label}${SUBSET === null ? '' : `.d${SUBSET}`}`;

/** The `n` documents of a corpus with the most questions per character, and the questions they answer. */
function subset(c: Corpus, n: number): Corpus {
  const asked = new Map<string, number>();
  for (const q of [...c.paraphrased, ...c.identifiers]) asked.set(q.expected, (asked.get(q.expected) ?? 0) + 1);
  const density = (d: Corpus['docs'][number]): number => (asked.get(d.id) ?? 0) / d.content.length;
  const ids = new Set([...c.docs].sort((a, b) => density(b) - density(a) || a.id.localeCompare(b.id)).slice(0, n).map((d) => d.id));
  const docs = c.docs.filter((d) => ids.has(d.id));
  return { ...c, docs, paraphrased: c.paraphrased.filter((q) => ids.has(q.expected)), identifiers: c.identifiers.filter((q) => ids.has(q.expected)) };
}

async function ensureDatabase(url: URL, fresh: boolean): Promise<void> {
  const dbName = decodeURIComponent(url.pathname.slice(1));
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`unsafe database name ${dbName}`);
  const admin = new URL(url.toString());
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    if (fresh) await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    const exists = (await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [dbName])).rowCount ?? 0;
    if (exists === 0) await client.query(`CREATE DATABASE ${dbName}`);
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
  const app = await createApp(config, { api: config.role !== 'worker', worker: config.role !== 'api' });
  app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${port}` };
}

async function request<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const postJson = <T>(url: string, body: unknown): Promise<T> =>
  request<T>(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Sends a corpus into a namespace (HTML as an upload) and waits until every document is ready. */
async function ingest(url: string, namespace: string, corpus: Corpus): Promise<void> {
  const ids: string[] = [];
  for (const d of corpus.docs) {
    if (d.format === 'html') {
      const form = new FormData();
      form.append('file', new Blob([d.content], { type: 'text/html' }), d.file);
      form.append('namespace', namespace);
      form.append('externalId', d.id);
      form.append('title', d.title);
      ids.push((await request<{ id: string }>(`${url}/v1/documents`, { method: 'POST', body: form })).id);
    } else {
      ids.push((await postJson<{ id: string }>(`${url}/v1/documents`, { content: d.content, title: d.title, externalId: d.id, namespace })).id);
    }
  }
  const t0 = Date.now();
  for (;;) {
    const states = await Promise.all(ids.map((id) => request<{ status: string; chunkCount: number | null }>(`${url}/v1/documents/${id}`, {})));
    const failed = states.filter((s) => s.status === 'failed').length;
    if (failed > 0) throw new Error(`${namespace}: ${failed} documents failed to ingest`);
    const ready = states.filter((s) => s.status === 'ready');
    if (ready.length === ids.length) {
      const chunks = ready.reduce((n, s) => n + (s.chunkCount ?? 0), 0);
      const seconds = Math.max(1, (Date.now() - t0) / 1000);
      console.log(`  ingested ${namespace}: ${ids.length} documents, ${chunks} chunks in ${seconds.toFixed(0)} s`);
      return;
    }
    // Seldom: on a busy machine each poll competes with the embedding it waits for.
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** Ready documents per namespace. */
async function readyCounts(db: DataSource): Promise<Map<string, number>> {
  const rows: Array<{ namespace: string; n: string }> = await db.query(`SELECT namespace, count(*) AS n FROM documents WHERE status = 'ready' GROUP BY namespace`);
  return new Map(rows.map((r) => [r.namespace, Number(r.n)]));
}

/** Ingests, per chunking setting, the corpora whose namespace is not complete yet. */
async function ingestMissing(env: Record<string, string>, corpora: Corpus[], settings: ChunkSetting[]): Promise<void> {
  const ds = createDataSource(loadConfig({ ...process.env, ...env }));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const ready = await readyCounts(ds);
  await ds.destroy();
  for (const s of settings) {
    const missing = corpora.filter((c) => (ready.get(namespaceOf(c, s)) ?? 0) < c.docs.length);
    if (missing.length === 0) continue;
    const svc = await startService({ ...env, ...settingEnv(s) });
    try {
      for (const c of missing) await ingest(svc.url, namespaceOf(c, s), c);
    } finally {
      await svc.app.get<Queue>(getQueueToken(INGEST_QUEUE)).obliterate({ force: true });
      await svc.app.close();
    }
  }
}

type Table = Map<string, Map<QuestionType, Metrics>>;

interface SearchHitsApi {
  results: Array<{ externalId: string | null; documentId: string }>;
}

async function searchDocs(url: string, namespace: string, mode: SearchMode, query: string): Promise<string[]> {
  const r = await postJson<SearchHitsApi>(`${url}/v1/search`, { query, namespace, mode, groupBy: 'document', topK: 10 });
  return r.results.map((d) => d.externalId ?? d.documentId);
}

/** Metrics of each API mode on each corpus of one setting: method → corpus → type. */
async function apiTables(url: string, corpora: Corpus[], s: ChunkSetting): Promise<Map<string, Table>> {
  const out = new Map<string, Table>();
  for (const mode of MODES) {
    const table: Table = new Map();
    for (const c of corpora) {
      const byType = new Map<QuestionType, Metrics>();
      for (const t of QUESTION_TYPES) byType.set(t, await evaluate(c[t], (q) => searchDocs(url, namespaceOf(c, s), mode, q.question)));
      table.set(c.name, byType);
    }
    out.set(mode, table);
  }
  return out;
}

/**
 * Latency per mode over every question, through HTTP, query embedding included: each mode
 * pads the query with its own count of trailing spaces, which the model ignores but which
 * makes it a query the service has not embedded yet.
 */
async function latencies(url: string, corpora: Corpus[], s: ChunkSetting): Promise<Map<SearchMode, number[]>> {
  const out = new Map<SearchMode, number[]>();
  for (const [i, mode] of MODES.entries()) {
    const times: number[] = [];
    for (const c of corpora) {
      for (const q of [...c.paraphrased, ...c.identifiers]) {
        const t0 = process.hrtime.bigint();
        await searchDocs(url, namespaceOf(c, s), mode, q.question + ' '.repeat(i + 7));
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    out.set(mode, times);
  }
  return out;
}

/** Both lists of every question of a setting, as long as the sweep needs, from the search SQL itself. */
async function collectLists(app: NestExpressApplication, config: AppConfig, corpora: Corpus[], s: ChunkSetting): Promise<QueryLists[]> {
  const repo = app.get(ChunkRepository);
  const embeddings = app.get(QueryEmbeddings);
  const { active } = await app.get(LiveGenerations).current();
  const out: QueryLists[] = [];
  for (const c of corpora) {
    const namespace = namespaceOf(c, s);
    for (const type of QUESTION_TYPES) {
      for (const q of c[type]) {
        const embedding = await embeddings.embed(active, q.question);
        const list = async (mode: SearchMode) => {
          const hits = await repo.search({
            mode, query: q.question, embedding, namespace, filter: {}, limit: SWEEP_LIST_ROWS, candidates: SWEEP_LIST_ROWS,
            fusion: { k: 60, vectorWeight: 1, keywordWeight: 1 }, efSearch: config.search.efSearch, keywordBudget: config.search.keywordBudget,
            exactVectorMaxChunks: config.search.exactVectorMaxChunks, generation: active,
          });
          return hits.map((h) => ({ chunkId: h.chunkId, doc: h.externalId ?? h.documentId, score: h.score }));
        };
        out.push({ corpus: c.name, type, expected: q.expected, identifier: quotesIdentifier(q.question), question: q.question, vector: await list('vector'), keyword: await list('keyword') });
      }
    }
  }
  return out;
}

// ---- output -------------------------------------------------------------------------

function printQualityTable(title: string, methods: Map<string, Table>, corpora: Corpus[], chunks: Map<string, number>, s: ChunkSetting): void {
  const names = [...methods.keys()];
  console.log(`\n${title}\n`);
  console.log(`| corpus (chunks) | questions | ${names.map((n) => `${n} hit@1 / hit@5 / MRR@10`).join(' | ')} |`);
  console.log(`| --- | --- | ${names.map(() => '---').join(' | ')} |`);
  for (const c of corpora) {
    for (const t of QUESTION_TYPES) {
      if (c[t].length === 0) continue;
      const cells = names.map((n) => {
        const m = methods.get(n)!.get(c.name)?.get(t);
        return m ? formatMetrics(m) : '';
      });
      console.log(`| ${c.name} (${chunks.get(namespaceOf(c, s)) ?? '?'}) | ${t} (${c[t].length}) | ${cells.join(' | ')} |`);
    }
  }
}

function printLatency(lat: Map<SearchMode, number[]>, chunks: number): void {
  console.log(`\nlatency through HTTP, query embedding included (namespaces up to ${chunks} chunks), ms:\n`);
  console.log(`| mode | p50 | p95 | queries |`);
  console.log(`| --- | --- | --- | --- |`);
  for (const [mode, times] of lat) console.log(`| ${mode} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${times.length} |`);
}

/**
 * A setting chosen among `candidates` for each corpus on the other corpora, and how it scores
 * there. With references (the lists alone), the choice is first by the worst margin over the
 * better list (the goal), then by the mean of hit@1 and MRR@10.
 */
function leaveOneCorpusOut(what: string, candidates: Array<{ name: string; scores: Scores }>, corpora: string[], references: Array<{ name: string; scores: Scores }>): void {
  const refs = references.map((r) => r.scores);
  const rank = (c: { scores: Scores }, pool: string[]): number =>
    (refs.length > 0 ? Math.round(Math.min(0, worstMargin(c.scores, refs, pool)) * 1000) * 10 : 0) + objective(c.scores, pool);
  console.log(`\n${what}: chosen leave-one-corpus-out (on the other corpora: ${refs.length > 0 ? 'least loss against the better list, then ' : ''}best mean of hit@1 and MRR@10), reported on the held-out corpus\n`);
  const extra = (cells: string[]): string => cells.map((c) => ` ${c} |`).join('');
  console.log(`| held-out corpus | chosen on the others | questions | hit@1 / hit@5 / MRR@10 |${extra(references.map((r) => r.name))}`);
  console.log(`| --- | --- | --- | --- |${extra(references.map(() => '---'))}`);
  for (const held of corpora) {
    const others = corpora.filter((c) => c !== held);
    const pool = others.length > 0 ? others : corpora;
    const best = candidates.reduce((a, b) => (rank(b, pool) > rank(a, pool) ? b : a));
    for (const t of QUESTION_TYPES) {
      const m = best.scores.get(held)?.get(t);
      if (!m) continue;
      const refs = references.map((r) => formatMetrics(r.scores.get(held)!.get(t)!));
      console.log(`| ${held}${others.length === 0 ? ' (only corpus: not held out)' : ''} | ${best.name} | ${t} | ${formatMetrics(m)} |${extra(refs)}`);
    }
  }
  const ranked = [...candidates].sort((a, b) => rank(b, corpora) - rank(a, corpora));
  console.log(`\nbest on all corpora together (for reading, not for choosing): mean of hit@1 and MRR@10${refs.length > 0 ? ', worst margin over the better list' : ''}`);
  for (const r of ranked.slice(0, 12)) {
    console.log(`  ${objective(r.scores, corpora).toFixed(4)}${refs.length > 0 ? `  ${worstMargin(r.scores, refs, corpora).toFixed(3)}` : ''}  ${r.name}`);
  }
}

function fusionSweep(lists: QueryLists[], corpora: string[]): void {
  const seen = new Set<string>();
  const variants: FusionVariant[] = fusionGrid().filter((v) => !seen.has(v.name) && seen.add(v.name));
  const scored = variants.map((v) => ({ name: v.name, scores: scoreVariant(v, lists) }));
  const refs = (['vector', 'keyword'] as const).map((w) => ({ name: `${w} list`, scores: scoreVariant(listOnly(w), lists) }));
  leaveOneCorpusOut(`fusion (${variants.length} settings)`, scored, corpora, refs);
  // The best setting of each family, for the README's comparison.
  const families = new Map<string, { name: string; scores: Scores }>();
  for (const s of scored) {
    const family = s.name.split(' ')[0] + (s.name.includes('decisive') ? ' decisive' : '') + ' ' + s.name.split(' ').pop();
    const cur = families.get(family);
    if (!cur || objective(s.scores, corpora) > objective(cur.scores, corpora)) families.set(family, s);
  }
  console.log(`\nbest of each family on all corpora (objective, then per corpus/type MRR@10):`);
  for (const [family, s] of families) {
    const per = corpora.flatMap((c) => QUESTION_TYPES.map((t) => `${c}/${t[0]} ${s.scores.get(c)?.get(t)?.mrr10.toFixed(3) ?? '-'}`));
    console.log(`  ${family.padEnd(22)} ${objective(s.scores, corpora).toFixed(4)}  ${s.name}  [${per.join(', ')}]`);
  }
}

// ---- main ---------------------------------------------------------------------------

async function main(): Promise<void> {
  if (flag('sweep-only')) {
    // Identifiers as the code recognises them now, not as when the lists were kept.
    const lists = (JSON.parse(readFileSync(LISTS_FILE, 'utf8')) as QueryLists[]).map((l) =>
      l.question === undefined ? l : { ...l, identifier: quotesIdentifier(l.question) });
    fusionSweep(lists, [...new Set(lists.map((l) => l.corpus))]);
    return;
  }
  const provider = arg('provider') ?? 'local';
  const dbUrl = new URL(arg('database-url') ?? 'postgres://postgres@127.0.0.1:5432/ingest_eval');
  const env: Record<string, string> = {
    DATABASE_URL: dbUrl.toString(),
    EMBEDDING_PROVIDER: provider,
    QUEUE_PREFIX: `eval-${randomUUID().slice(0, 8)}`,
    WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'error',
    // The evaluation asks every question once per mode and pass: more than a client's default budget.
    RATE_LIMIT_SEARCH_PER_MIN: '0',
    ...(provider === 'hash' ? { EMBEDDING_DIMENSION: '384' } : {}),
  };
  const corpora = loadCorpora(arg('corpora')?.split(',')).map((c) => (SUBSET === null ? c : subset(c, SUBSET)));
  const configured = loadConfig({ ...process.env, ...env }).chunking;
  const settings = parseSettings(arg('chunking') ?? `${configured.sizeTokens}/${configured.overlapTokens}/${configured.contextual ? 'ctx' : 'plain'}`);
  for (const c of corpora) {
    const chars = c.docs.reduce((n, d) => n + d.content.length, 0);
    console.log(`corpus ${c.name}: ${c.docs.length} documents (${[...new Set(c.docs.map((d) => d.format))].join(', ')}), ${(chars / 1e6).toFixed(2)} M characters; ${c.paraphrased.length} paraphrased + ${c.identifiers.length} identifier questions`);
  }
  console.log(`provider ${provider}; chunking settings ${settings.map((s) => s.label).join(', ')}`);

  await ensureDatabase(dbUrl, flag('fresh'));
  await ingestMissing(env, corpora, settings);

  const svc = await startService({ ...env, ROLE: 'api' });
  try {
    const db = svc.app.get<DataSource>(getDataSourceToken());
    const chunkRows: Array<{ namespace: string; n: string }> = await db.query(`SELECT namespace, count(*) AS n FROM chunks GROUP BY namespace`);
    const chunks = new Map(chunkRows.map((r) => [r.namespace, Number(r.n)]));
    const sc = svc.config.search;
    const weights = sc.fusion === 'rrf'
      ? `k ${sc.rrfK}, keyword weight ${sc.keywordWeight} (${sc.identifierKeywordWeight} for queries quoting an identifier)`
      : `${sc.normalisation} normalisation, keyword weight ${sc.keywordWeight} + ${sc.keywordDecisiveGain} × decisiveness`;
    console.log(`search: ${sc.fusion} fusion, ${weights}, vector weight ${sc.vectorWeight}, ${sc.candidates} candidates per list${sc.fuseDocuments ? ', documents fused for groupBy document' : ''}`);

    let bare: Table | null = null;
    if (!flag('no-bare')) {
      const embedder = new CachedEmbedder(svc.app.get<EmbeddingProvider>(EMBEDDING_PROVIDER), `/tmp/retrieval-bare-${provider}.json`);
      bare = new Map();
      for (const c of corpora) {
        const rank = await bareModelRanker(c, embedder);
        const byType = new Map<QuestionType, Metrics>();
        for (const t of QUESTION_TYPES) byType.set(t, await evaluate(c[t], (q) => rank(q.question)));
        bare.set(c.name, byType);
      }
      embedder.save();
    }

    const hybridBySetting: Array<{ name: string; scores: Scores }> = [];
    const vectorBySetting: Array<{ name: string; scores: Scores }> = [];
    for (const [i, s] of settings.entries()) {
      const methods = await apiTables(svc.url, corpora, s);
      if (bare) methods.set('bare model', bare);
      printQualityTable(`chunking ${s.label}: document level, through POST /v1/search (groupBy document, topK 10)`, methods, corpora, chunks, s);
      hybridBySetting.push({ name: s.label, scores: methods.get('hybrid')! });
      vectorBySetting.push({ name: s.label, scores: methods.get('vector')! });
      if (i === 0) {
        const biggest = Math.max(...corpora.map((c) => chunks.get(namespaceOf(c, s)) ?? 0));
        if (!flag('no-latency')) printLatency(await latencies(svc.url, corpora, s), biggest);
        if (flag('sweep')) {
          const lists = await collectLists(svc.app, svc.config, corpora, s);
          writeFileSync(LISTS_FILE, JSON.stringify(lists));
          fusionSweep(lists, corpora.map((c) => c.name));
        }
      }
    }
    if (settings.length > 1) {
      leaveOneCorpusOut('chunking, hybrid', hybridBySetting, corpora.map((c) => c.name), []);
      leaveOneCorpusOut('chunking, vector', vectorBySetting, corpora.map((c) => c.name), []);
    }
  } finally {
    await svc.app.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
