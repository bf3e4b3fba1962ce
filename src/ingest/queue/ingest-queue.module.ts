import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DeadLetterQueue } from './dead-letter.queue';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE, REINDEX_QUEUE } from './ingest.jobs';
import { IngestQueue } from './ingest.queue';
import { ReindexQueue } from './reindex.queue';

/**
 * The queues and their gateways, for any module that enqueues or inspects work. All use
 * the root connection (BullModule.forRoot): a per-queue `connection` would replace it
 * whole, not extend it.
 */
@Module({
  imports: [BullModule.registerQueue({ name: INGEST_QUEUE }, { name: DEAD_LETTER_QUEUE }, { name: REINDEX_QUEUE })],
  providers: [IngestQueue, DeadLetterQueue, ReindexQueue],
  exports: [IngestQueue, DeadLetterQueue, ReindexQueue, BullModule],
})
export class IngestQueueModule {}
