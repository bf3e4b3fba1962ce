import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { ObservabilityConfig } from '../../../config/app-config';
import { BullModule } from '@nestjs/bullmq';
import { DEAD_LETTER_QUEUE, INGEST_QUEUE, REINDEX_QUEUE, WEBHOOK_QUEUE } from '../../../ingest/queue/ingest.jobs';
import { IngestQueueModule } from '../../../ingest/queue/ingest-queue.module';
import { AuthModule } from '../../../auth/auth.module';
import { DashboardAccessBinding, dashboardAccess } from './dashboard-access.middleware';

/** Where the dashboard is served. */
export const QUEUE_DASHBOARD_ROUTE = '/admin/queues';

const DESCRIPTIONS: Record<string, string> = {
  [INGEST_QUEUE]: 'Document versions to split, embed and store',
  [DEAD_LETTER_QUEUE]: 'Copies of jobs that failed for good (Postgres holds the truth: GET /v1/dead-letters)',
  [REINDEX_QUEUE]: 'Ready documents to copy into a new embedding generation',
  [WEBHOOK_QUEUE]: 'Signed webhook calls to deliver',
};

/** Bull Board over the service's queues at /admin/queues; read-only unless configured otherwise. */
@Module({})
export class QueueDashboardModule {
  static forRoot(c: ObservabilityConfig): DynamicModule {
    const options = { readOnlyMode: c.dashboardReadOnly, allowRetries: !c.dashboardReadOnly };
    return {
      module: QueueDashboardModule,
      providers: [DashboardAccessBinding],
      imports: [
        AuthModule,
        IngestQueueModule,
        BullModule.registerQueue({ name: WEBHOOK_QUEUE }),
        BullBoardModule.forRoot({
          route: QUEUE_DASHBOARD_ROUTE,
          adapter: ExpressAdapter,
          middleware: dashboardAccess,
          boardOptions: { uiConfig: { boardTitle: 'Ingest queues' } },
        }),
        BullBoardModule.forFeature(
          ...[INGEST_QUEUE, DEAD_LETTER_QUEUE, REINDEX_QUEUE, WEBHOOK_QUEUE].map((name) => ({
            name,
            adapter: BullMQAdapter,
            options: { ...options, description: DESCRIPTIONS[name] },
          })),
        ),
      ],
    };
  }
}
