import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { INGEST_QUEUE } from './ingest.jobs';
import { IngestProducer } from './ingest.producer';

/** The ingest queue and its producer, for any module that enqueues work. */
@Module({
  // Commands fail at once while Redis is unreachable instead of waiting in memory: the
  // document is already safe in Postgres, and the request must not hang.
  imports: [BullModule.registerQueue({ name: INGEST_QUEUE, connection: { enableOfflineQueue: false } })],
  providers: [IngestProducer],
  exports: [IngestProducer, BullModule],
})
export class IngestQueueModule {}
