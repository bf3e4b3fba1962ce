import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DeadLetterProducer } from './dead-letter.producer';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE, REINDEX_QUEUE } from './ingest.jobs';
import { IngestProducer } from './ingest.producer';

/**
 * The ingest, dead-letter and re-embed queues and their producers, for any module that enqueues
 * work. Both use the root connection (BullModule.forRoot): a per-queue `connection`
 * would replace it whole, not extend it.
 */
@Module({
  imports: [BullModule.registerQueue({ name: INGEST_QUEUE }, { name: DEAD_LETTER_QUEUE }, { name: REINDEX_QUEUE })],
  providers: [IngestProducer, DeadLetterProducer],
  exports: [IngestProducer, DeadLetterProducer, BullModule],
})
export class IngestQueueModule {}
