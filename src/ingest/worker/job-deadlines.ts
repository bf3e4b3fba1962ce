import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { withTimeout } from '../../common/with-timeout';
import { DocumentsRepository } from '../../documents/documents.repository';
import { JobConnectionTracker } from './job-connection-tracker';
import { deadlineFor } from './job-deadline';

/** What the processors need to bound their jobs in time: each job's limit, and ending the sessions of an expired one. */
@Injectable()
export class JobDeadlines {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly connections: JobConnectionTracker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Scaled by the document's size, so a large document is not cut off by a limit meant for a small one. */
  async forDocument(documentId: string): Promise<number> {
    const h = this.config.healing;
    const length = await withTimeout(this.documents.contentLength(documentId), 5000, 'document size').catch(() => null);
    return deadlineFor(length ?? 0, h.deadlineBaseMs, h.deadlinePerMbMs);
  }

  terminate(pids: number[]): Promise<void> {
    return this.connections.terminate(pids);
  }
}
