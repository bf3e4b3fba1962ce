import { Module } from '@nestjs/common';
import { DeadLetterRepository } from './dead-letter.repository';
import { DocumentReadsRepository } from './document-reads.repository';
import { DocumentVersionsRepository } from './document-versions.repository';
import { DocumentsRepository } from './documents.repository';
import { IdempotencyRepository } from './idempotency.repository';

const REPOSITORIES = [DocumentsRepository, DocumentVersionsRepository, DocumentReadsRepository, DeadLetterRepository, IdempotencyRepository];

/**
 * The documents tables: what workers read and change (`DocumentsRepository`) and what the API records and
 * reads (versions, reads, dead letters, idempotency keys).
 */
@Module({
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class DocumentsDataModule {}
