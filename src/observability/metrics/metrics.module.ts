import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module';
import { VectorStoreModule } from '../../vector-store/vector-store.module';
import { QueueStatesModule } from '../queues/queue-states.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { StoredStateReader } from './stored-state.reader';

/** `GET /metrics`, in API and worker processes alike. */
@Module({
  imports: [QueueStatesModule, VectorStoreModule, AuditModule],
  controllers: [MetricsController],
  providers: [StoredStateReader, MetricsService],
})
export class MetricsModule {}
