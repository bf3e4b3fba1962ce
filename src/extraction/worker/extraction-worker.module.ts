import { Module } from '@nestjs/common';
import { FileBlobModule } from '../file-blob.module';
import { FileTextExtractor } from './file-text.extractor';

/** Text extraction from uploaded files, for the ingest pipeline's `extract` stage. */
@Module({ imports: [FileBlobModule], providers: [FileTextExtractor], exports: [FileTextExtractor] })
export class ExtractionWorkerModule {}
