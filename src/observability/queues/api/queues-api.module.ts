import { DynamicModule, Module } from '@nestjs/common';
import { ObservabilityConfig } from '../../../config/app-config';
import { QueueStatesModule } from '../queue-states.module';
import { QueueDashboardModule } from './queue-dashboard.module';
import { QueuesController } from './queues.controller';

/** API side of the queues: `GET /v1/queues` and, unless turned off, the dashboard. */
@Module({})
export class QueuesApiModule {
  static forRoot(c: ObservabilityConfig): DynamicModule {
    return {
      module: QueuesApiModule,
      imports: [QueueStatesModule, ...(c.dashboard ? [QueueDashboardModule.forRoot(c)] : [])],
      controllers: [QueuesController],
    };
  }
}
