import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { IngestQueueModule } from '../queue/ingest-queue.module';
import { EventsModule } from '../../events/events.module';

/** The dead-letter API (`/v1/dead-letters`). */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule, EventsModule],
  controllers: [DeadLettersController],
  providers: [DeadLettersService],
})
export class DeadLettersModule {}
