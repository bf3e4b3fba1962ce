import { IngestQueue } from '../../ingest/queue/ingest.queue';
import type { NamespaceIndexes } from '../../vector-store/backfill/namespace-indexes.repository';
import { DocumentReadsRepository } from '../document-reads.repository';
import { DocumentVersionsRepository } from '../document-versions.repository';
import { IdempotencyRepository } from '../idempotency.repository';

// A class type with private members accepts only its own instances; its public part is a plain interface
// that a fake can implement.
type PublicPart<T> = { [K in keyof T]: T[K] };

/** What `DocumentsService` needs of each collaborator, so unit tests can hand it fakes. */
export type DocumentVersionStore = PublicPart<DocumentVersionsRepository>;
export type DocumentReadStore = PublicPart<DocumentReadsRepository>;
export type IdempotencyStore = PublicPart<IdempotencyRepository>;
export type IngestJobs = Pick<IngestQueue, 'enqueue'>;
export type BulkIngestJobs = Pick<IngestQueue, 'enqueueMany'>;
/** Puts namespaces in backfill mode before a backfill batch is recorded. */
export type BackfillStarter = Pick<NamespaceIndexes, 'startBackfill' | 'recordBatch'>;
