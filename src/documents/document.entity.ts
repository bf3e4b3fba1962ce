import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DocumentSource } from './document-source';
import { DocumentStatus } from './document-status';
import { PipelineConfig } from './pipeline';

/** One row per document: its identity, pipeline settings and processing state (never its text). */
@Entity({ name: 'documents' })
export class DocumentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId!: string | null;

  @Column({ type: 'text', nullable: true })
  title!: string | null;

  @Column({ type: 'jsonb' })
  metadata!: Record<string, unknown>;

  @Column({ name: 'content_sha256', type: 'char', length: 64 })
  contentSha256!: string;

  @Column({ name: 'content_length', type: 'integer' })
  contentLength!: number;

  @Column({ type: 'jsonb' })
  pipeline!: PipelineConfig;

  @Column({ name: 'pipeline_hash', type: 'char', length: 16 })
  pipelineHash!: string;

  /** The uploaded file the text comes from; null for a document posted as text. */
  @Column({ type: 'jsonb', nullable: true })
  source!: DocumentSource | null;

  @Column({ type: 'text' })
  status!: DocumentStatus;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Short machine-readable kind of the last error (see ingest-errors.ts). */
  @Column({ name: 'last_error_class', type: 'text', nullable: true })
  lastErrorClass!: string | null;

  /** Pipeline stage of the last failure: load, split, embed or write. */
  @Column({ name: 'failed_stage', type: 'text', nullable: true })
  failedStage!: string | null;

  /** Set when a dead letter is discarded: the document stays failed but leaves the list. */
  @Column({ name: 'dead_letter_discarded_at', type: 'timestamptz', nullable: true })
  deadLetterDiscardedAt!: Date | null;

  /** Tokens sent to the embedding provider for the current version (counted by the model's tokenizer where the provider reports none, estimated where neither is known). */
  @Column({ name: 'embedding_tokens', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  embeddingTokens!: number;

  /** Tokens sent for every version of this document so far. */
  @Column({ name: 'embedding_tokens_total', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  embeddingTokensTotal!: number;

  /** Characters sent to the embedding provider for the current version, and for every version and re-embed. */
  @Column({ name: 'embedding_characters', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  embeddingCharacters!: number;

  @Column({ name: 'embedding_characters_total', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  embeddingCharactersTotal!: number;

  /** Chunk texts embedded by the provider, and served from the embedding cache, for the current version. */
  @Column({ name: 'embedded_texts', type: 'integer' })
  embeddedTexts!: number;

  @Column({ name: 'cached_texts', type: 'integer' })
  cachedTexts!: number;

  @Column({ name: 'tokens_estimated', type: 'boolean' })
  tokensEstimated!: boolean;

  @Column({ name: 'chunk_count', type: 'integer', nullable: true })
  chunkCount!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
