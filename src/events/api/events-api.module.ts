import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { EventsModule } from '../events.module';
import { EventsController } from './events.controller';
import { StatusEventBus } from './status-event-bus';
import { StatusStreamsService } from './status-streams.service';

/** GET /v1/documents/:id/events and GET /v1/events: status as Server-Sent Events. */
@Module({
  imports: [EventsModule, DocumentsDataModule],
  controllers: [EventsController],
  providers: [StatusEventBus, StatusStreamsService],
})
export class EventsApiModule {}
