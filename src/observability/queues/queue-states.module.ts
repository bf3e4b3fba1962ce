import { Module } from '@nestjs/common';
import { IngestQueueModule } from '../../ingest/queue/ingest-queue.module';
import { QueueStates } from './queue-states';

/** Queue counts by state, shared by `/metrics` and `GET /v1/queues`. */
@Module({
  imports: [IngestQueueModule],
  providers: [QueueStates],
  exports: [QueueStates],
})
export class QueueStatesModule {}
