import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DeadLetterProducer } from './dead-letter.producer';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE } from './ingest.jobs';
import { IngestProducer } from './ingest.producer';

// Commands fail at once while Redis is unreachable instead of waiting in memory: the
// document is already safe in Postgres, and a request must not hang.
const failFast = { connection: { enableOfflineQueue: false } };

/** The ingest and dead-letter queues and their producers, for any module that enqueues work. */
@Module({
  imports: [
    BullModule.registerQueue({ name: INGEST_QUEUE, ...failFast }, { name: DEAD_LETTER_QUEUE, ...failFast }),
  ],
  providers: [IngestProducer, DeadLetterProducer],
  exports: [IngestProducer, DeadLetterProducer, BullModule],
})
export class IngestQueueModule {}
