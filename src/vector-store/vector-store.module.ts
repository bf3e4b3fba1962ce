import { Module } from '@nestjs/common';
import { EmbedderRegistryModule } from '../embedding/embedder-registry.module';
import { NamespaceIndexBuilder } from './backfill/namespace-index.builder';
import { NamespaceIndexes } from './backfill/namespace-indexes.repository';
import { ChunkRepository } from './chunk.repository';
import { KeywordStatistics } from './keyword-statistics';
import { ChunkTables } from './generations/chunk-tables';
import { GenerationLock } from './generations/generation-lock';
import { GenerationRepository } from './generations/generation.repository';
import { GenerationSwitch } from './generations/generation-switch';
import { GenerationWriter } from './generations/generation-writer';
import { LiveGenerations } from './generations/live-generations';
import { ModelChangeStartup } from './generations/model-change.startup';
import { ReindexCoverage } from './generations/reindex-coverage.repository';

const PROVIDERS = [
  ChunkRepository,
  KeywordStatistics,
  ChunkTables,
  GenerationLock,
  GenerationRepository,
  GenerationSwitch,
  GenerationWriter,
  LiveGenerations,
  ModelChangeStartup,
  ReindexCoverage,
  NamespaceIndexes,
  NamespaceIndexBuilder,
];

/**
 * The pgvector chunk store and its embedding generations, reconciled at start with the
 * configured model (ModelChangeStartup), and the embedder of each generation.
 */
@Module({
  imports: [EmbedderRegistryModule],
  providers: PROVIDERS,
  exports: [EmbedderRegistryModule, ...PROVIDERS],
})
export class VectorStoreModule {}
