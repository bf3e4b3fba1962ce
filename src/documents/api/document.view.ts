import { DocumentWithModel, SliceProgress } from '../document-reads.repository';
import { AttemptRecord } from '../documents.repository';
import { DocumentSource } from '../document-source';
import { ChunkUnit } from '../pipeline';
import { publicErrorMessage } from '../public-error';

/** One attempt at processing a version, as the status endpoint shows it. */
export interface AttemptView {
  version: number;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  stage: string | null;
  errorClass: string | null;
  error: string | null;
}

export function toAttemptView(a: AttemptRecord): AttemptView {
  return {
    version: a.version,
    attempt: a.attempt,
    startedAt: a.startedAt.toISOString(),
    finishedAt: a.finishedAt?.toISOString() ?? null,
    outcome: a.outcome,
    stage: a.stage,
    errorClass: a.errorClass,
    error: publicErrorMessage(a.errorClass, a.message),
  };
}

/** The public JSON shape of a document's status (never its text). */
export interface DocumentView {
  id: string;
  namespace: string;
  externalId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  status: string;
  version: number;
  attempts: number;
  chunkCount: number | null;
  /** While a large document is embedded in slices: chunks embedded so far of its total; else null. */
  progress: SliceProgress | null;
  lastError: string | null;
  lastErrorClass: string | null;
  failedStage: string | null;
  contentSha256: string;
  contentLength: number;
  /** The uploaded file the document's text comes from; null for a document posted as text. */
  source: DocumentSource | null;
  /** Chunk size and overlap in `unit`: characters, or tokens of `tokenizer`. */
  chunking: { size: number; overlap: number; unit: ChunkUnit; tokenizer: string | null };
  /** The model that embedded the document's searchable chunks; null while it has none. */
  model: string | null;
  /**
   * Embedding cost of the current version: tokens (the provider's count, else the model's
   * tokenizer's, else an estimate: `tokensEstimated`) and characters sent; the totals
   * count every version and re-embeds into new generations.
   */
  embedding: {
    tokens: number;
    tokensTotal: number;
    tokensEstimated: boolean;
    characters: number;
    charactersTotal: number;
    embeddedTexts: number;
    cachedTexts: number;
  };
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export function toDocumentView({ document: d, model, progress }: DocumentWithModel): DocumentView {
  return {
    id: d.id,
    namespace: d.namespace,
    externalId: d.externalId,
    title: d.title,
    metadata: d.metadata,
    status: d.status,
    version: d.version,
    attempts: d.attempts,
    chunkCount: d.chunkCount,
    progress: progress ?? null,
    lastError: publicErrorMessage(d.lastErrorClass, d.lastError),
    lastErrorClass: d.lastErrorClass,
    failedStage: d.failedStage,
    contentSha256: d.contentSha256,
    contentLength: d.contentLength,
    source: d.source,
    chunking: {
      size: d.pipeline.chunkSize,
      overlap: d.pipeline.chunkOverlap,
      unit: d.pipeline.chunkUnit ?? 'chars',
      tokenizer: d.pipeline.tokenizer ?? null,
    },
    model,
    embedding: {
      tokens: d.embeddingTokens,
      tokensTotal: d.embeddingTokensTotal,
      tokensEstimated: d.tokensEstimated,
      characters: d.embeddingCharacters,
      charactersTotal: d.embeddingCharactersTotal,
      embeddedTexts: d.embeddedTexts,
      cachedTexts: d.cachedTexts,
    },
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    startedAt: d.startedAt?.toISOString() ?? null,
    completedAt: d.completedAt?.toISOString() ?? null,
  };
}
