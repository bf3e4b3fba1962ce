import { Module } from '@nestjs/common';
import { DocumentsRepository } from './documents.repository';

/** The documents table and its state transitions, for the API and the worker alike. */
@Module({
  providers: [DocumentsRepository],
  exports: [DocumentsRepository],
})
export class DocumentsDataModule {}
