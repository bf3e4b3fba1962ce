import { Module } from '@nestjs/common';
import { FileBlobModule } from '../file-blob.module';
import { FileTextExtractor } from './file-text.extractor';
import { StagedUploadSweeper } from './staged-upload.sweeper';

/** Text extraction from uploaded files, for the ingest pipeline's `extract` stage, and the sweeping of abandoned uploads. */
@Module({ imports: [FileBlobModule], providers: [FileTextExtractor, StagedUploadSweeper], exports: [FileTextExtractor] })
export class ExtractionWorkerModule {}
