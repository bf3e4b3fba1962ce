import { Module } from '@nestjs/common';
import { DocumentsDataModule } from '../../documents/documents-data.module';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { IngestQueueModule } from '../queue/ingest-queue.module';

/** The dead-letter API (`/v1/dead-letters`). */
@Module({
  imports: [DocumentsDataModule, IngestQueueModule],
  controllers: [DeadLettersController],
  providers: [DeadLettersService],
})
export class DeadLettersModule {}
