import { Module } from '@nestjs/common';
import { FileBlobRepository } from './file-blob.repository';

/** Stored file bytes, for the API (writes uploads) and the workers (read them to extract text). */
@Module({ providers: [FileBlobRepository], exports: [FileBlobRepository] })
export class FileBlobModule {}
