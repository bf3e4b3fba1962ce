/**
 * Quality of the search plans at scale, on real-model vectors and real text: an evaluation
 * corpus (bench/retrieval/corpora/<--corpus>, nodejs by default) split in 1000-character chunks
 * and embedded once with the local model (all-MiniLM-L6-v2; the vectors are kept in
 * bench/.cache, rebuilt when missing or when the corpus, the questions or the model change),
 * then padded to `--chunks` in one namespace:
 *
 * - padding vectors are the real ones, each moved by noise of norm 0.3–0.9 (cosine 0.74–0.96
 *   to its source), so the index meets the clusters of a real corpus and not random vectors
 *   (HNSW's worst case);
 * - padding text is drawn word by word from the corpus's own word frequencies, so its
 *   common words are common in the padding too and the keyword plan bounds them.
 *
 * It prints recall@10 of the vector list (HNSW, as the service sets it up) against exact
 * search for the evaluation questions' vectors, and MRR@10 of the expected document for the
 * keyword and hybrid lists with the bounded keyword plan (SEARCH_KEYWORD_BUDGET) against
 * exhaustive BM25 scoring of every match, with the mean time of each search's SQL.
 *
 *   npm run build && npm run bench:search-quality -- [--chunks 100000]
 *     [--corpus nodejs] [--db ingest_bench_search_quality] [--budget 1000] [--ef 40,200,400]
 *     [--reuse] [--recall-only] [--per-question] [--no-common-coordination]
 *     [--index hnsw:m=16,ef_construction=64 | --index ivfflat:lists=1000] [--probes 10,20,40]
 *     [--work-mem 1GB]
 *
 * --index (re)builds the vector index with those parameters before measuring (with --reuse,
 * over the rows already there), so other graphs or an IVFFlat index can be weighed on the same
 * rows; recall is then measured at each `--ef` (HNSW) or `--probes` (IVFFlat). --work-mem is
 * the build's maintenance_work_mem (default 1GB, as BACKFILL_MAINTENANCE_WORK_MEM's).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { toSql } from 'pgvector';
import { loadConfig } from '../src/config/app-config';
import { createDataSource } from '../src/database/data-source';
import { ReadDatabase } from '../src/database/read-database.module';
import { LocalEmbeddingProvider } from '../src/embedding/local/local-embedding.provider';
import { chunkContext, textToEmbed } from '../src/ingest/chunking/chunk-context';
import { splitText } from '../src/ingest/chunking/text-splitter';
import { chunkId } from '../src/vector-store/chunk-id';
import { ChunkSearch, SearchMode, searchQuery } from '../src/vector-store/chunk-search.query';
import { quotesIdentifier } from '../src/vector-store/api/query-shape';
import { Generation } from '../src/vector-store/generations/generation';
import { KeywordPlan, planKeywords, textIndexChunks } from '../src/vector-store/keyword-plan';
import { KeywordStatistics } from '../src/vector-store/keyword-statistics';
import { sizeInMb } from '../src/vector-store/backfill/namespace-index.builder';
import { BenchDbTarget, checkDimension, databaseUrl, ensureBenchDatabase, resetTables } from './support/bench-db';
import { intFlag } from './support/bench-main';
import { mulberry32 } from './support/corpus';
import { Corpus, Question, loadCorpora } from './retrieval/corpus-files';

const DIMENSION = 384;
const NAMESPACE = 'quality';
/** Padding chunks per padding document. */
const PADDING_PER_DOCUMENT = 1000;
const ROWS_PER_INSERT = 2000;

interface Options {
  chunks: number;
  db: string;
  budget: number;
  /** ef_search values to measure recall at, beside SEARCH_EF. */
  ef: number[];
  reuse: boolean;
  /** Only the vector list's recall (the exhaustive keyword searches take minutes at 1M). */
  recallOnly: boolean;
  /** Print each question whose expected document the bounded keyword plan ranks differently from exhaustive BM25. */
  perQuestion: boolean;
  /** The bounded plan without the common words' coordination candidates, to weigh them. */
  noCommonCoordination: boolean;
  /** The evaluation corpus (a folder of bench/retrieval/corpora). */
  corpus: string;
  /** The vector index to build instead of the service's, or null for the service's. */
  index: VectorIndexSpec | null;
  /** ivfflat.probes values to measure recall at, for an IVFFlat index. */
  probes: number[];
  /** maintenance_work_mem of the index build. */
  workMem: string;
}

/** A vector index to weigh: its method and its storage parameters (`m`, `ef_construction`, `lists`). */
interface VectorIndexSpec {
  method: 'hnsw' | 'ivfflat';
  params: string;
}

/** `hnsw:m=32,ef_construction=128` or `ivfflat:lists=1000`. */
function indexSpec(v: string): VectorIndexSpec {
  const m = /^(hnsw|ivfflat)(?::((?:[a-z_]+=\d+)(?:,[a-z_]+=\d+)*))?$/.exec(v);
  if (!m) throw new Error(`--index: expected hnsw[:m=16,ef_construction=64] or ivfflat[:lists=1000], got ${v}`);
  return { method: m[1] as VectorIndexSpec['method'], params: (m[2] ?? '').split(',').filter(Boolean).join(', ') };
}

function options(argv: string[]): Options {
  const o: Options = {
    chunks: 100_000,
    db: 'ingest_bench_search_quality',
    budget: 1000,
    ef: [40, 200, 400],
    reuse: argv.includes('--reuse'),
    recallOnly: argv.includes('--recall-only'),
    perQuestion: argv.includes('--per-question'),
    noCommonCoordination: argv.includes('--no-common-coordination'),
    corpus: 'nodejs',
    index: null,
    probes: [10, 20, 40],
    workMem: '1GB',
  };
  const switches = ['--reuse', '--recall-only', '--per-question', '--no-common-coordination'];
  const valued = argv.filter((a) => !switches.includes(a));
  for (let i = 0; i < valued.length; i += 2) {
    const [flag, v] = [valued[i], valued[i + 1]];
    if (flag === '--chunks') o.chunks = intFlag(flag, v, 1000);
    else if (flag === '--budget') o.budget = intFlag(flag, v, 10);
    else if (flag === '--db') o.db = String(v);
    else if (flag === '--corpus') o.corpus = String(v);
    else if (flag === '--ef') o.ef = String(v).split(',').map((e) => intFlag(flag, e, 1));
    else if (flag === '--probes') o.probes = String(v).split(',').map((e) => intFlag(flag, e, 1));
    else if (flag === '--index') o.index = indexSpec(String(v));
    else if (flag === '--work-mem') o.workMem = `${sizeInMb(String(v))}MB`;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

interface RealChunk {
  doc: string;
  index: number;
  context: string | null;
  content: string;
}

/** What the local model made of the corpus and the questions, as kept in the cache file. */
interface Embedded {
  key: string;
  chunks: number[][];
  questions: number[][];
}

function realChunks(corpus: Corpus): RealChunk[] {
  return corpus.docs.flatMap((doc) =>
    splitText(doc.content, { size: 1000, overlap: 150 }).map((p) => ({ doc: doc.id, index: p.index, context: chunkContext(doc.title, []), content: p.content })),
  );
}

/** The vectors of the corpus's chunks and of the questions, from the cache file or the local model. */
async function embedded(corpus: string, chunks: RealChunk[], questionList: readonly Question[]): Promise<Embedded> {
  const embedding = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'local' }).embedding;
  const texts = chunks.map((c) => textToEmbed(c.context, c.content));
  const questions = questionList.map((q) => q.question);
  const key = createHash('sha256').update(JSON.stringify({ model: 'all-MiniLM-L6-v2', quantize: embedding.quantize, texts, questions })).digest('hex');
  const file = path.resolve(__dirname, `../../bench/.cache/search-quality-${corpus}-vectors.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Embedded;
    if (cached.key === key) return cached;
  }
  console.log(`embedding ${texts.length} chunks and ${questions.length} questions with the local model (kept in ${file})`);
  const provider = await LocalEmbeddingProvider.create({ threads: embedding.threads, quantize: embedding.quantize });
  try {
    const started = performance.now();
    const result: Embedded = { key, chunks: await provider.embed(texts), questions: await provider.embed(questions) };
    console.log(`  embedded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(result));
    return result;
  } finally {
    await provider.close();
  }
}

/** A unit vector near `v`: moved by noise of norm `r` in a random direction. */
function perturbed(v: number[], r: number, rand: () => number): number[] {
  // Box–Muller: a Gaussian direction is uniform on the sphere.
  const g = v.map(() => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
  const gNorm = Math.hypot(...g);
  const w = v.map((x, i) => x + (r * g[i]) / gNorm);
  const norm = Math.hypot(...w);
  return w.map((x) => x / norm);
}

/** The corpus's words and their cumulative frequencies, to draw padding text from. */
function wordSampler(chunks: RealChunk[], rand: () => number): (n: number) => string {
  const counts = new Map<string, number>();
  for (const c of chunks) for (const w of c.content.match(/[A-Za-z][A-Za-z0-9_.]*/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts.keys()];
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of words) cumulative.push((sum += counts.get(w) as number));
  const draw = (): string => {
    const x = rand() * sum;
    let [lo, hi] = [0, cumulative.length - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo];
  };
  return (n) => Array.from({ length: n }, draw).join(' ');
}

class QualityBench {
  private readonly target: BenchDbTarget;
  private readonly db: Client;
  private readonly search = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash' }).search;
  /** The service's own planning statistics, over a connection of their own. */
  private statistics?: KeywordStatistics;
  private source?: DataSource;
  /** The bounded keyword plan of the last search, for --per-question. */
  private lastPlan: KeywordPlan | null = null;
  /** The corpus's questions: written in users' words (paraphrased), then quoting identifiers. */
  private readonly questions: Question[];
  private readonly corpus: Corpus;

  constructor(private readonly o: Options) {
    const base = loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash' }).postgres;
    this.target = { host: base.host, port: base.port, user: base.user, database: o.db };
    this.db = new Client({ connectionString: databaseUrl(this.target) });
    this.corpus = loadCorpora([o.corpus])[0];
    this.questions = [...this.corpus.paraphrased, ...this.corpus.identifiers];
  }

  async run(): Promise<void> {
    const chunks = realChunks(this.corpus);
    const vectors = await embedded(this.o.corpus, chunks, this.questions);
    await ensureBenchDatabase(this.target, { ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION) });
    await this.db.connect();
    try {
      await checkDimension(this.db, DIMENSION);
      if (!this.o.reuse) await this.build(chunks, vectors);
      else if (this.o.index) await this.buildIndex(indexDef(this.o.index));
      this.source = createDataSource(loadConfig({ ...process.env, EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSION: String(DIMENSION), DATABASE_URL: databaseUrl(this.target) }));
      await this.source.initialize();
      this.statistics = new KeywordStatistics(ReadDatabase.primaryOnly(this.source));
      const total = Number((await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM chunks WHERE namespace = $1`, [NAMESPACE])).rows[0].n);
      console.log(`namespace ${NAMESPACE}: ${total} chunks (${chunks.length} of the corpus, the rest padding); ${this.questions.length} questions`);
      await this.recall(vectors.questions, total);
      if (!this.o.recallOnly) await this.mrr(vectors.questions, total);
    } finally {
      await this.source?.destroy();
      await this.db.end();
    }
  }

  private async build(chunks: RealChunk[], vectors: Embedded): Promise<void> {
    const db = this.db;
    const started = performance.now();
    await resetTables(db);
    await db.query(`INSERT INTO embedding_generations (status, model, dimension, activated_at) VALUES ('active', 'local:all-MiniLM-L6-v2', $1, now())`, [DIMENSION]);
    // The service's index as its migrations made it (an interrupted run or --index may have replaced it).
    const [index] = (await db.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw_idx'`)).rows;
    const spec = this.o.index ?? { method: 'hnsw', params: '' };
    const def = this.o.index || !index ? indexDef(spec) : index.def;
    for (const { name } of await this.vectorIndexes()) await db.query(`DROP INDEX ${name}`);
    const docIds = new Map<string, string>();
    const newDocument = async (externalId: string, title: string | null): Promise<string> => {
      const r = await db.query<{ id: string }>(
        `INSERT INTO documents (namespace, external_id, title, content_sha256, content_length, pipeline, pipeline_hash, status)
         VALUES ($1, $2, $3, repeat('0', 64), 0, '{}', repeat('0', 16), 'ready') RETURNING id`,
        [NAMESPACE, externalId, title],
      );
      return r.rows[0].id;
    };
    for (const c of chunks) if (!docIds.has(c.doc)) docIds.set(c.doc, await newDocument(c.doc, c.context));
    const rand = mulberry32(7);
    const words = wordSampler(chunks, rand);
    let rows: Array<{ doc: string; index: number; context: string | null; content: string; vector: number[] }> = chunks.map((c, i) => ({
      doc: docIds.get(c.doc) as string,
      index: c.index,
      context: c.context,
      content: c.content,
      vector: vectors.chunks[i],
    }));
    let written = 0;
    let paddingDoc = '';
    for (let n = 0; n < this.o.chunks; n++) {
      if (n >= chunks.length) {
        const p = n - chunks.length;
        if (p % PADDING_PER_DOCUMENT === 0) paddingDoc = await newDocument(`padding-${p / PADDING_PER_DOCUMENT}`, null);
        const source = Math.floor(rand() * chunks.length);
        // About 150 words, as many as a 1000-character chunk of the corpus.
        rows.push({ doc: paddingDoc, index: p % PADDING_PER_DOCUMENT, context: null, content: words(150), vector: perturbed(vectors.chunks[source], 0.3 + 0.6 * rand(), rand) });
      }
      if (rows.length >= ROWS_PER_INSERT || n === this.o.chunks - 1) {
        await db.query(
          `INSERT INTO chunks (id, document_id, namespace, chunk_index, content, content_sha256, char_count, model, embedding, context)
           SELECT u.id, u.doc, $1, u.idx, u.content, repeat('0', 64), char_length(u.content), 'local:all-MiniLM-L6-v2', u.emb, u.ctx
             FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::vector[], $7::text[]) AS u(id, doc, idx, content, emb, ctx)`,
          [
            NAMESPACE,
            rows.map((r) => chunkId(r.doc, r.index)),
            rows.map((r) => r.doc),
            rows.map((r) => r.index),
            rows.map((r) => r.content),
            rows.map((r) => toSql(r.vector) as string),
            rows.map((r) => r.context),
          ],
        );
        written += rows.length;
        rows = [];
      }
    }
    await this.buildIndex(def);
    await db.query(`VACUUM ANALYZE chunks`);
    console.log(`built ${written} chunks and the vector index in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  /** Replaces the vector index of `chunks` with `def`, built with --work-mem; prints its build time and size. */
  private async buildIndex(def: string): Promise<void> {
    const db = this.db;
    for (const { name } of await this.vectorIndexes()) await db.query(`DROP INDEX ${name}`);
    const started = performance.now();
    await db.query(`SET maintenance_work_mem = '${this.o.workMem}'`);
    await db.query(def);
    await db.query(`RESET maintenance_work_mem`);
    const [built] = await this.vectorIndexes();
    console.log(`vector index built in ${((performance.now() - started) / 1000).toFixed(1)} s (maintenance_work_mem ${this.o.workMem}, ${built.size})`);
  }

  /** The vector indexes of `chunks`: name, definition, size. */
  private async vectorIndexes(): Promise<Array<{ name: string; def: string; size: string }>> {
    const r = await this.db.query<{ name: string; def: string; size: string }>(
      `SELECT quote_ident(indexname) AS name, indexdef AS def, pg_size_pretty(pg_relation_size(quote_ident(indexname)::regclass)) AS size
         FROM pg_indexes WHERE tablename = 'chunks' AND indexdef ~ 'USING (hnsw|ivfflat)'`,
    );
    return r.rows;
  }

  private chunkSearch(mode: SearchMode, query: string, embedding: number[] | null, total: number, candidates: number): ChunkSearch {
    const s = this.search;
    return {
      mode,
      query,
      embedding,
      namespace: NAMESPACE,
      filter: {},
      limit: 10,
      candidates,
      // The service's fusion, of chunks (as for groupBy chunk).
      fusion: {
        method: s.fusion,
        normalisation: s.normalisation,
        k: s.rrfK,
        vectorWeight: s.vectorWeight,
        keywordWeight: quotesIdentifier(query) ? s.identifierKeywordWeight : s.keywordWeight,
        keywordDecisiveGain: s.keywordDecisiveGain,
      },
      efSearch: s.efSearch,
      keywordBudget: this.o.budget,
      exactVectorMaxChunks: s.exactVectorMaxChunks,
      exactVector: total <= s.exactVectorMaxChunks,
      keywordOwnRows: total <= s.exactVectorMaxChunks,
      generation: { id: 0, status: 'active' } as Generation,
    };
  }

  /** Runs a search as the repository does (keyword plan, HNSW settings per transaction); rows best first. */
  private async searched(s: ChunkSearch, probes?: number): Promise<Array<{ id: string; document_id: string }>> {
    const db = this.db;
    let keyword = null;
    if (s.mode !== 'vector') {
      const lexemes = (await db.query<{ l: string[] }>(`SELECT coalesce(array_agg(DISTINCT lexeme), '{}') AS l FROM unnest(to_tsvector('english', $1))`, [s.query])).rows[0].l;
      const statistics = this.statistics as KeywordStatistics;
      const [frequencies, chunks, tableChunks] = await Promise.all([statistics.lexemeFrequencies(), statistics.namespaceChunks(s.namespace), statistics.tableChunks()]);
      keyword = planKeywords(lexemes, frequencies, chunks, s.keywordBudget, textIndexChunks(chunks, tableChunks, s.keywordOwnRows === true));
      if (this.o.noCommonCoordination) keyword = { ...keyword, commonCoordination: null };
      if (s.keywordBudget === this.o.budget) this.lastPlan = keyword;
    }
    const { sql, params } = searchQuery(s, keyword);
    await db.query('BEGIN');
    try {
      if (!s.exactVector) {
        await db.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(s.efSearch, s.candidates))}`);
        await db.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
        if (probes !== undefined) await db.query(`SET LOCAL ivfflat.probes = ${probes}`);
      }
      return (await db.query<{ id: string; document_id: string }>(sql, params)).rows;
    } finally {
      await db.query('COMMIT');
    }
  }

  /**
   * Recall@10 of the vector list against exact search, by distance (ties count as found),
   * at the configured ef_search and the others of `--ef`; and what a miss costs: how much
   * farther the 10th neighbour found is than the true 10th, and the MRR@10 of the expected
   * document in the vector list against the same list ranked exactly.
   */
  private async recall(questionVectors: number[][], total: number): Promise<void> {
    const db = this.db;
    const docs = await this.documentNames();
    const kth: number[] = [];
    const ties: Array<[number, number]> = [];
    let exactMrr = 0;
    for (const [i, v] of questionVectors.entries()) {
      await db.query('BEGIN');
      await db.query('SET LOCAL enable_indexscan = off');
      // The 50 nearest: the first 10 are the answer, the rest show how close the next ones come.
      const exact = await db.query<{ d: number; document_id: string }>(
        `SELECT embedding <=> $1::vector AS d, document_id FROM chunks WHERE namespace = $2 ORDER BY embedding <=> $1::vector LIMIT 50`,
        [toSql(v), NAMESPACE],
      );
      await db.query('COMMIT');
      const tenth = Number(exact.rows[Math.min(10, exact.rows.length) - 1]?.d ?? 0);
      kth.push(tenth);
      ties.push([1.01, 1.02].map((f) => exact.rows.filter((r) => Number(r.d) <= tenth * f).length) as [number, number]);
      exactMrr += reciprocalRank(exact.rows, docs, this.questions[i].expected);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`\nexact search: MRR@10 of the expected document ${(exactMrr / this.questions.length).toFixed(3)}`);
    console.log(`chunks within 1% / 2% of the true 10th distance (median over the questions, of the 50 nearest): ${median(ties.map((t) => t[0]))} / ${median(ties.map((t) => t[1]))}`);
    const indexes = await this.vectorIndexes();
    for (const i of indexes) console.log(`vector index (${i.size}): ${i.def}`);
    const ivfflat = indexes.some((i) => i.def.includes('USING ivfflat'));
    console.log(`| ${ivfflat ? 'ivfflat.probes' : 'ef_search'} | candidates | recall@10 | 10th distance found / true | MRR@10 | ms per query (one client) |`);
    console.log(`| --- | --- | --- | --- | --- | --- |`);
    const settings = ivfflat ? this.o.probes : [...new Set([this.search.efSearch, ...this.o.ef])];
    for (const setting of [...settings].sort((a, b) => a - b)) {
      for (const candidates of [10, this.search.candidates]) {
        let [found, gap, mrr] = [0, 0, 0];
        const started = performance.now();
        const efSearch = ivfflat ? this.search.efSearch : setting;
        const probes = ivfflat ? setting : undefined;
        for (const [i, v] of questionVectors.entries()) {
          const got = (await this.searched({ ...this.chunkSearch('vector', '', v, total, candidates), efSearch }, probes)).slice(0, 10);
          const distances = await db.query<{ d: number }>(`SELECT embedding <=> $1::vector AS d FROM chunks WHERE id = ANY($2::uuid[])`, [toSql(v), got.map((r) => r.id)]);
          found += Math.min(10, distances.rows.filter((r) => Number(r.d) <= kth[i] + 1e-9).length);
          gap += Math.max(...distances.rows.map((r) => Number(r.d))) / Math.max(kth[i], 1e-9);
          mrr += reciprocalRank(got, docs, this.questions[i].expected);
        }
        const ms = (performance.now() - started) / questionVectors.length;
        const n = questionVectors.length;
        console.log(`| ${ivfflat ? setting : Math.max(setting, candidates)} | ${candidates} | ${(found / (10 * n)).toFixed(3)} | ${(gap / n).toFixed(3)} | ${(mrr / n).toFixed(3)} | ${ms.toFixed(1)} |`);
      }
    }
  }

  /** Each document of the namespace's id → its external id (the evaluation's document names). */
  private async documentNames(): Promise<Map<string, string>> {
    const rows = (await this.db.query<{ id: string; external_id: string }>(`SELECT id, external_id FROM documents WHERE namespace = $1`, [NAMESPACE])).rows;
    return new Map(rows.map((r) => [r.id, r.external_id]));
  }

  /** MRR@10 of the expected document, bounded keyword plan against exhaustive BM25. */
  private async mrr(questionVectors: number[][], total: number): Promise<void> {
    const docs = await this.documentNames();
    console.log(`\n| list | MRR@10 bounded (budget ${this.o.budget}) | MRR@10 exhaustive | difference | ms per query bounded / exhaustive (one client) |`);
    console.log(`| --- | --- | --- | --- | --- |`);
    for (const mode of ['keyword', 'hybrid'] as const) {
      const score = { bounded: 0, exhaustive: 0 };
      const ms = { bounded: 0, exhaustive: 0 };
      for (const [i, q] of this.questions.entries()) {
        const s = this.chunkSearch(mode, q.question, mode === 'hybrid' ? questionVectors[i] : null, total, mode === 'hybrid' ? this.search.candidates : 10);
        const rr = { bounded: 0, exhaustive: 0 };
        for (const [name, budget] of [['bounded', this.o.budget], ['exhaustive', 100_000_000]] as const) {
          const started = performance.now();
          const rows = await this.searched({ ...s, keywordBudget: budget });
          ms[name] += performance.now() - started;
          rr[name] = reciprocalRank(rows, docs, q.expected);
          score[name] += rr[name];
        }
        if (this.o.perQuestion && rr.bounded !== rr.exhaustive) {
          console.log(`  ${mode} "${q.question}" (${q.expected}): RR bounded ${rr.bounded.toFixed(3)}, exhaustive ${rr.exhaustive.toFixed(3)}; plan ${JSON.stringify(this.lastPlan)}`);
        }
      }
      const [b, e] = [score.bounded / this.questions.length, score.exhaustive / this.questions.length];
      const timing = `${(ms.bounded / this.questions.length).toFixed(1)} / ${(ms.exhaustive / this.questions.length).toFixed(1)}`;
      console.log(`| ${mode} | ${b.toFixed(3)} | ${e.toFixed(3)} | ${(b - e).toFixed(3)} | ${timing} |`);
    }
  }
}

/**
 * `CREATE INDEX` for `spec`, shaped as the service's shared index (cosine, `WHERE NOT
 * own_index`); an HNSW index takes the service's name, so its searches find it as they would.
 */
function indexDef(spec: VectorIndexSpec): string {
  const name = spec.method === 'hnsw' ? 'chunks_embedding_hnsw_idx' : 'chunks_embedding_ivfflat_idx';
  const params = spec.params ? ` WITH (${spec.params})` : '';
  return `CREATE INDEX ${name} ON chunks USING ${spec.method} (embedding vector_cosine_ops)${params} WHERE (NOT own_index)`;
}

/** 1 / the rank of the first row of the expected document among the first ten, else 0. */
function reciprocalRank(rows: ReadonlyArray<{ document_id: string }>, docs: ReadonlyMap<string, string>, expected: string): number {
  const rank = rows.slice(0, 10).findIndex((r) => docs.get(r.document_id) === expected);
  return rank >= 0 ? 1 / (rank + 1) : 0;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  await new QualityBench(o).run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
