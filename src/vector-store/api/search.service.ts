import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { DEFAULT_NAMESPACE } from '../../common/namespace';
import { ChunkHit, ChunkRepository, SearchMode } from '../chunk.repository';
import { LiveGenerations } from '../generations/live-generations';
import { retryOnGenerationChange } from '../generations/retry-on-generation-change';
import { SearchDto } from './dto/search.dto';
import { quotesIdentifier } from './query-shape';
import { SearchGate } from './search-gate';
import { withinAnswerBudget } from './answer-budget';
import { QueryEmbeddings } from './query-embeddings';

/** A document with its best chunks, for `groupBy: "document"`. */
export interface DocumentHit {
  documentId: string;
  title: string | null;
  externalId: string | null;
  metadata: Record<string, unknown>;
  /** The document's fused score in hybrid mode, else the score of its best chunk. */
  score: number;
  /** Its best chunks, best first. */
  chunks: ChunkHit[];
}

export type SearchResult =
  | { mode: SearchMode; groupBy: 'chunk'; chunks: ChunkHit[] }
  | { mode: SearchMode; groupBy: 'document'; documents: DocumentHit[] };

const DEFAULT_CHUNKS_PER_DOCUMENT = 3;
/** Rows per list when grouping: enough chunks that topK distinct documents usually appear. */
const GROUP_ROWS_PER_DOCUMENT = 5;

/**
 * Answers `POST /v1/search`: embeds the query with the model of the active generation
 * (unless the search is keyword-only) and asks the chunk store for the best chunks.
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly chunks: ChunkRepository,
    private readonly generations: LiveGenerations,
    private readonly queryEmbeddings: QueryEmbeddings,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gate: SearchGate,
  ) {}

  /** Throws `BadRequestException` when topK exceeds SEARCH_MAX_TOP_K. */
  async search(dto: SearchDto): Promise<SearchResult> {
    const cfg = this.config.search;
    const topK = dto.topK ?? cfg.defaultTopK;
    if (topK > cfg.maxTopK) throw new BadRequestException(`topK must not be greater than ${cfg.maxTopK}`);
    const mode = dto.mode ?? 'hybrid';
    const byDocument = dto.groupBy === 'document';

    // Fusion needs more than topK rows per list; grouping needs enough rows for topK documents.
    const perDocument = dto.chunksPerDocument ?? DEFAULT_CHUNKS_PER_DOCUMENT;
    const limit = byDocument ? Math.min(1000, Math.max(cfg.candidates, topK * Math.max(GROUP_ROWS_PER_DOCUMENT, perDocument))) : topK;
    const candidates = mode === 'hybrid' ? Math.max(cfg.candidates, limit) : limit;
    // A re-embed may switch generations after the query was embedded: embed it again with the new model.
    const hits = await retryOnGenerationChange(async () => {
      const { active } = await this.generations.current();
      const embedding = mode === 'keyword' ? null : await this.queryEmbeddings.embed(active, dto.query);
      return this.gate.run(() => this.chunks.search({
        mode,
        query: dto.query,
        embedding,
        namespace: dto.namespace ?? DEFAULT_NAMESPACE,
        filter: dto.filter ?? {},
        limit,
        candidates,
        fusion: {
          method: cfg.fusion,
          normalisation: cfg.normalisation,
          k: cfg.rrfK,
          vectorWeight: cfg.vectorWeight,
          // Embeddings blur exact strings: a query quoting one leans on the keyword list (and,
          // with relative fusion, more so when that list is decisive for it).
          keywordWeight: quotesIdentifier(dto.query) ? cfg.identifierKeywordWeight : cfg.keywordWeight,
          keywordDecisiveGain: cfg.keywordDecisiveGain,
          byDocument: byDocument && cfg.fuseDocuments,
          chunksPerDocument: perDocument,
        },
        efSearch: cfg.efSearch,
        keywordBudget: cfg.keywordBudget,
        exactVectorMaxChunks: cfg.exactVectorMaxChunks,
        generation: active,
        statementTimeoutMs: this.config.limits.searchStatementTimeoutMs,
      }));
    }, () => this.generations.invalidate());
    const budget = this.config.limits.searchMaxResponseChars;
    if (!byDocument) return { mode, groupBy: 'chunk', chunks: withinAnswerBudget(hits, budget) };
    const grouped = groupByDocument(hits, topK, perDocument);
    const kept = new Set(withinAnswerBudget(grouped.flatMap((d) => d.chunks), budget));
    const documents = grouped.map((d) => ({ ...d, chunks: d.chunks.filter((c) => kept.has(c)) })).filter((d) => d.chunks.length > 0);
    return { mode, groupBy: 'document', documents };
  }
}

/** Each document once, in the order of its best chunk; hits must be sorted best first. */
export function groupByDocument(hits: ChunkHit[], topK: number, chunksPerDocument: number): DocumentHit[] {
  const byId = new Map<string, DocumentHit>();
  for (const hit of hits) {
    let doc = byId.get(hit.documentId);
    if (!doc) {
      if (byId.size >= topK) continue;
      doc = { documentId: hit.documentId, title: hit.title, externalId: hit.externalId, metadata: hit.documentMetadata, score: hit.documentScore ?? hit.score, chunks: [] };
      byId.set(hit.documentId, doc);
    }
    if (doc.chunks.length < chunksPerDocument) doc.chunks.push(hit);
  }
  return [...byId.values()];
}
