import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { WEBHOOK_QUEUE } from '../../ingest/queue/ingest.jobs';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { QueueStates } from './queue-states';

/** Queue counts by state, shared by `/metrics` and `GET /v1/queues`. */
@Module({
  imports: [IngestQueueModule, BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: [QueueStates],
  exports: [QueueStates],
})
export class QueueStatesModule {}
